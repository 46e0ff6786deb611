// A month of usage_events leaves the database as one file and can come back from it (the retention
// policy in the README). Only a settled month leaves: every billable call of it on a finalized
// invoice. What the usage API, heat maps and invoices read stays: the daily rollup, TDL cells,
// totals and invoice lines are kept. While a month is archived the meter stores no call dated in
// it (a late report could not be told from a new call): such a call is dead-lettered as
// archived_month and replays once the month is restored.
//
// The file is gzip'd JSON lines, one call per line as PostgreSQL writes the row (to_jsonb: exact
// numbers and times), with a manifest beside it (count and sha256). Restoring reads the lines back
// with jsonb_populate_recordset, so a column added since is filled by its default.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { createGunzip, createGzip } from "node:zlib";
import { inTransaction, type SqlClient, type SqlPool } from "../db/pool.ts";
import { pgSql } from "../db/sql.ts";
import { INVOICE_STAMPING_LOCK } from "../billing/period-invoices.ts";
import { AppError } from "../domain/errors.ts";
import { boundsOf, madeMonthKeys, type Month, monthKey, parseMonth, partitionOf } from "./event-partitions.ts";

const FORMAT = "tokenmeter-usage-events/1";
const PAGE = 5000;

export type ArchivedMonth = { month: string; calls: number; file: string; sha256: string };
type Manifest = ArchivedMonth & { format: string; table: string; archived_at: string };

/** A refusal the operator can act on (exit code 1 in the command). */
const refused = (message: string) => new AppError("conflict", message);

const manifestPathOf = (file: string) => join(dirname(file), `${basename(file).replace(/\.jsonl\.gz$/, "")}.json`);

/** The month's row in archived_months is keyed by its first day. */
const firstDayOf = (m: Month) => boundsOf(m).from.toISOString().slice(0, 10);
const isMade = async (client: SqlClient, m: Month) => (await madeMonthKeys(pgSql(client))).includes(monthKey(m));

/**
 * Archives month `m` into `dir`: marks it archived (meters in flight finish first, later ones refuse
 * its calls), writes and checks its file, then drops its table. Run again after a failure, it resumes.
 */
export async function archiveMonth(pool: SqlPool, m: Month, dir: string, actor: string): Promise<ArchivedMonth> {
  const key = monthKey(m);
  const table = partitionOf(m);
  await inTransaction(pool, async (client) => {
    if (!(await isMade(client, m))) throw refused(`${key}: usage_events has no table for this month`);
    // the meters' barrier: every chunk reads the archived months under this lock, shared
    await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [INVOICE_STAMPING_LOCK.toString()]);
    const { rows } = await client.query<{ unsettled: number }>(
      `SELECT count(*)::int AS unsettled FROM ${table} e LEFT JOIN invoices i ON i.id = e.invoice_id
       WHERE e.billable AND e.consumer_id IS NOT NULL AND i.status IS DISTINCT FROM 'finalized'`,
    );
    const unsettled = rows[0]!.unsettled;
    if (unsettled > 0)
      throw refused(`${key}: ${unsettled} billable calls are not on a finalized invoice yet; archive it once they are`);
    await client.query(
      `INSERT INTO archived_months (month, status, actor) VALUES ($1::date, 'archiving', $2)
       ON CONFLICT (month) DO UPDATE SET actor = EXCLUDED.actor`,
      [firstDayOf(m), actor],
    );
  });
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${table}.jsonl.gz`);
  const calls = await inTransaction(pool, async (client) => {
    await client.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY");
    return writeMonth(client, table, `${file}.partial`);
  });
  const read = await readMonthFile(`${file}.partial`, () => {});
  if (read.lines !== calls) throw new Error(`${file}: wrote ${calls} calls, read back ${read.lines}`);
  await rename(`${file}.partial`, file);
  const manifest: Manifest = {
    format: FORMAT,
    month: key,
    table,
    calls,
    file: basename(file),
    sha256: read.sha256,
    archived_at: new Date().toISOString(),
  };
  await writeFile(manifestPathOf(file), `${JSON.stringify(manifest, null, 2)}\n`);
  await inTransaction(pool, async (client) => {
    await client.query(`ALTER TABLE usage_events DETACH PARTITION ${table}`);
    await client.query(`DROP TABLE ${table}`);
    await client.query(
      `UPDATE archived_months SET status = 'archived', calls = $2, file = $3, sha256 = $4 WHERE month = $1::date`,
      [firstDayOf(m), calls, file, read.sha256],
    );
  });
  return { month: key, calls, file, sha256: read.sha256 };
}

/** Writes every row of `table` as a JSON line, in key order; returns how many. */
async function writeMonth(client: SqlClient, table: string, path: string): Promise<number> {
  const gzip = createGzip();
  const out = gzip.pipe(createWriteStream(path));
  const closed = new Promise<void>((resolve, reject) => {
    out.on("finish", resolve);
    out.on("error", reject);
    gzip.on("error", reject);
  });
  let after: { id: string; at: string } | null = null;
  let calls = 0;
  for (;;) {
    const { rows }: { rows: Array<{ line: string; id: string; at: string }> } = await client.query(
      `SELECT to_jsonb(e)::text AS line, id, occurred_at::text AS at FROM ${table} e
       ${after ? "WHERE (id, occurred_at) > ($1, $2::timestamptz)" : ""} ORDER BY id, occurred_at LIMIT ${PAGE}`,
      after ? [after.id, after.at] : [],
    );
    for (const r of rows) if (!gzip.write(`${r.line}\n`)) await new Promise((res) => gzip.once("drain", res));
    calls += rows.length;
    if (rows.length < PAGE) break;
    const last: { id: string; at: string } = rows[rows.length - 1]!;
    after = { id: last.id, at: last.at };
  }
  gzip.end();
  await closed;
  return calls;
}

/** Reads an archive file's lines; returns how many and the file's sha256. */
async function readMonthFile(path: string, onLines: (lines: string[]) => Promise<void> | void) {
  const hash = createHash("sha256");
  const raw = createReadStream(path);
  raw.on("data", (chunk) => hash.update(chunk));
  const lines = createInterface({ input: raw.pipe(createGunzip()), crlfDelay: Number.POSITIVE_INFINITY });
  let count = 0;
  let batch: string[] = [];
  for await (const line of lines) {
    if (line === "") continue;
    batch.push(line);
    count++;
    if (batch.length >= 2000) {
      await onLines(batch);
      batch = [];
    }
  }
  if (batch.length) await onLines(batch);
  return { lines: count, sha256: hash.digest("hex") };
}

/** Restores an archived month from its file (the manifest beside it says which month and what it holds). */
export async function restoreMonth(pool: SqlPool, file: string): Promise<ArchivedMonth> {
  const manifest = JSON.parse(await readFile(manifestPathOf(file), "utf8")) as Manifest;
  const m = manifest.format === FORMAT ? parseMonth(manifest.month) : null;
  if (!m) throw refused(`${file}: not a usage events archive (${manifest.format} ${manifest.month})`);
  const table = partitionOf(m);
  const { from, to } = boundsOf(m);
  return inTransaction(pool, async (client) => {
    const listed = await client.query("SELECT 1 FROM archived_months WHERE month = $1::date", [firstDayOf(m)]);
    if (listed.rowCount === 0) throw refused(`${manifest.month}: this month is not archived`);
    if (await isMade(client, m))
      throw refused(`${manifest.month}: usage_events has a table for this month; it was not dropped`);
    await client.query(`CREATE TABLE ${table} (LIKE usage_events INCLUDING DEFAULTS)`);
    const read = await readMonthFile(file, async (lines) => {
      await client.query(`INSERT INTO ${table} SELECT * FROM jsonb_populate_recordset(NULL::usage_events, $1::jsonb)`, [
        `[${lines.join(",")}]`,
      ]);
    });
    if (read.sha256 !== manifest.sha256) throw refused(`${file}: its sha256 is not the manifest's; the file changed`);
    if (read.lines !== manifest.calls)
      throw refused(`${file}: ${read.lines} calls, the manifest says ${manifest.calls}`);
    await client.query(
      `ALTER TABLE usage_events ATTACH PARTITION ${table} FOR VALUES FROM ('${from.toISOString()}') TO ('${to.toISOString()}')`,
    );
    await client.query("DELETE FROM archived_months WHERE month = $1::date", [firstDayOf(m)]);
    return { month: manifest.month, calls: read.lines, file, sha256: read.sha256 };
  });
}
