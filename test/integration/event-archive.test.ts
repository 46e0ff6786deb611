// A settled month of usage events leaves the database as a file and comes back from it exactly.
// While it is away the usage API still reports its days (from the daily rollup), and a call dated
// in it is dead-lettered, never stored as a new call (a late report could not be told from one).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import type { InvoiceWorker } from "../../workers/invoices/worker.ts";
import { meterBatch } from "../../workers/meter/pipeline.ts";
import { usageEnvelope } from "../fixtures/kong-logs.ts";
import { meterEnvelopes, startTestInvoiceWorker, tick } from "../helpers/billing.ts";
import { admin, startStack, type Stack } from "../helpers/stack.ts";
import { archiveMonth, restoreMonth } from "../../src/usage/event-archive.ts";
import { makeMonth, partitionOf } from "../../src/usage/event-partitions.ts";

const MARCH = { year: 2025, month: 3 };
let stack: Stack;
let worker: InvoiceWorker;
let dir: string;
const kongId = randomUUID();
const name = `archive-${kongId.slice(0, 8)}`;
let consumer: { id: string; username: string };

before(async () => {
  stack = await startStack(
    { BILLING_TIMEZONE: "UTC", BILLING_PERIOD: "monthly", BILLING_GRACE_MINUTES: "60", BILLING_REVIEW_HOURS: "0" },
    { meter: false },
  );
  worker = await startTestInvoiceWorker(stack);
  const res = await admin(stack, "POST", "/v1/consumers", {
    username: name,
    kong_id: kongId,
    metadata: { input_cost_per_token: "0.000001", output_cost_per_token: "0.000004" },
  });
  assert.equal(res.statusCode, 201, res.body);
  consumer = { id: kongId, username: name };
  dir = await mkdtemp(join(tmpdir(), "tokenmeter-archive-"));
});
after(async () => {
  await worker.stop();
  await stack.close();
});

const marchCall = (day: number, input = 100 + day) =>
  usageEnvelope({ consumer, at: Date.UTC(2025, 2, day, 10), input, output: 20 });
/** The month's rows exactly as PostgreSQL writes them, in key order. */
const rowsOf = async (table: string) =>
  (
    await stack.pool.query<{ line: string }>(
      `SELECT to_jsonb(e)::text AS line FROM ${table} e ORDER BY id, occurred_at`,
    )
  ).rows.map((r) => r.line);
const marchUsage = async () =>
  (
    await admin(
      stack,
      "GET",
      `/v1/consumers/${name}/usage?from=2025-03-01T00:00:00Z&to=2025-04-01T00:00:00Z&group_by=day`,
    )
  ).json();
const archived = async () =>
  (await stack.pool.query("SELECT to_char(month, 'YYYY-MM') AS month, status FROM archived_months")).rows;

describe("archiving a month of usage events", () => {
  let file: string;
  let rows: string[];
  let usage: unknown;

  it("refuses a month whose calls are not on a finalized invoice yet, and changes nothing", async () => {
    await makeMonth(stack.db, MARCH);
    await meterEnvelopes(
      stack,
      [1, 5, 9, 17, 31].map((d) => marchCall(d)),
    );
    await assert.rejects(
      archiveMonth(stack.pool, MARCH, dir, "test"),
      /5 billable calls are not on a finalized invoice/,
    );
    assert.deepEqual(await archived(), []);
    assert.equal((await rowsOf(partitionOf(MARCH))).length, 5);
  });

  it("archives it once settled: the file holds every call as stored, the table goes, the usage API reads the same", async () => {
    await tick(stack.billingQueue, "2025-04-01T00:30:00Z");
    await tick(stack.billingQueue, "2025-04-01T02:00:00Z");
    const invoices = (await admin(stack, "GET", `/v1/consumers/${name}/invoices?period=2025-03-01`)).json().invoices;
    assert.equal(invoices[0]?.status, "finalized");
    rows = await rowsOf(partitionOf(MARCH));
    usage = await marchUsage();
    const a = await archiveMonth(stack.pool, MARCH, dir, "test");
    assert.deepEqual([a.month, a.calls], ["2025-03", 5]);
    file = a.file;
    const lines = gunzipSync(await readFile(file))
      .toString("utf8")
      .trim()
      .split("\n");
    assert.deepEqual(lines, rows, "every call, byte for byte as PostgreSQL wrote it");
    const table = await stack.pool.query("SELECT to_regclass($1) AS t", [partitionOf(MARCH)]);
    assert.equal(table.rows[0].t, null, "the month's table is dropped");
    assert.deepEqual(await archived(), [{ month: "2025-03", status: "archived" }]);
    assert.deepEqual(await marchUsage(), usage, "whole days are read from the rollup");
  });

  it("dead-letters a call dated in the archived month instead of storing it", async () => {
    const late = marchCall(20);
    const result = await meterBatch(
      [{ value: Buffer.from(JSON.stringify(late)), offset: "0", partition: 0, topic: "direct" }],
      { db: stack.db, pool: stack.pool, config: stack.config },
    );
    assert.deepEqual(
      result.deadLetters.map((d) => d.kind),
      ["archived_month"],
    );
    assert.match(result.deadLetters[0]!.reason, /2025-03.*archived/);
    const stored = await stack.pool.query("SELECT 1 FROM usage_events WHERE id = $1", [late.id]);
    assert.equal(stored.rowCount, 0);
    assert.deepEqual(await marchUsage(), usage);
  });

  it("restores the month from its file, exactly, and the month takes calls again", async () => {
    const r = await restoreMonth(stack.pool, file);
    assert.equal(r.calls, 5);
    assert.deepEqual(await rowsOf(partitionOf(MARCH)), rows, "the same rows as before archiving");
    assert.deepEqual(await archived(), []);
    await meterEnvelopes(stack, [marchCall(21)]);
    assert.equal((await rowsOf(partitionOf(MARCH))).length, 6);
  });
});
