// Redis away: metering goes on, a billing trigger answers 503, and once Redis is back the
// invoice worker catches up on the periods that ended meanwhile.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { createLogger } from "../../src/lib/logger.ts";
import { startInvoiceWorker, type InvoiceWorker } from "../../workers/invoices/worker.ts";
import { kongLog } from "../fixtures/kong-logs.ts";
import { admin, ingest, startStack, testConfig, type Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

const PORT = 16399; // a Redis of this test's own, started only half-way through
let stack: Stack;
let worker: InvoiceWorker;
let redis: ChildProcess | undefined;

before(async () => {
  stack = await startStack({
    REDIS_URL: `redis://127.0.0.1:${PORT}`,
    BILLING_PERIOD: "monthly",
    BILLING_TIMEZONE: "UTC",
  });
});
after(async () => {
  await worker?.stop();
  await stack.close();
  redis?.kill("SIGTERM");
});

describe("Redis unavailable", () => {
  it("metering goes on, a billing run answers 503, and the worker catches up when Redis returns", async () => {
    const kongId = randomUUID();
    await admin(stack, "POST", "/v1/consumers", {
      username: "while-redis-is-down",
      kong_id: kongId,
      metadata: { input_cost_per_token: "0.000001", output_cost_per_token: "0.000002" },
    });
    // October 2026 has ended by any clock this test runs under
    assert.equal(
      (await ingest(stack, kongLog({ consumer: { id: kongId }, startedAt: Date.parse("2026-10-15T12:00:00Z") })))
        .statusCode,
      202,
    );
    await waitFor(
      () => stack.db.usageEvent.count({ where: { consumer: { kongId } } }).then((n) => n === 1),
      15_000,
      "metering without Redis",
    );

    const run = await admin(stack, "POST", "/v1/billing/runs", { period: "2026-10-01" });
    assert.equal(run.statusCode, 503, run.body);
    assert.match(run.json().error.message, /Redis/);
    assert.equal(run.json().error.code, "redis_unavailable", "its own code, not Kafka's");

    // the worker starts while Redis is still away; it must neither crash nor lose its schedule
    worker = await startInvoiceWorker({
      config: testConfig(stack.config.databaseUrl, {
        REDIS_URL: `redis://127.0.0.1:${PORT}`,
        REDIS_PREFIX: stack.config.redis.prefix,
      }),
      db: stack.db,
      logger: createLogger("silent"),
    });
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await stack.db.invoice.count(), 0);

    redis = spawn("redis-server", ["--port", String(PORT), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
      stdio: "ignore",
    });
    const invoice = await waitFor(
      () =>
        stack.db.invoice
          .findFirst({ where: { consumer: { kongId } }, include: { period: true } })
          .then((i) => i ?? undefined),
      30_000,
      "the October invoice after Redis returned",
    );
    assert.equal(invoice.period.key, "2026-10-01");
  });
});
