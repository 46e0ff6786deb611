// The usage events command (the retention policy in the README):
//   months                                          the months usage_events holds, and those archived
//   archive --before YYYY-MM [--dir DIR] [--actor NAME]  archives every settled month before YYYY-MM
//   restore FILE                                    brings an archived month back from its file
// Exits 2 on a usage error, 1 when a month could not be archived or restored (the reason is printed).
import pg from "pg";
import { loadConfig } from "../src/config.ts";
import { AppError } from "../src/domain/errors.ts";
import { archiveMonth, restoreMonth } from "../src/usage/event-archive.ts";
import { madeMonthKeys, monthKey, monthOf, parseMonth, partitionOf } from "../src/usage/event-partitions.ts";
import { commandLine, fail } from "./command-line.ts";
import { setupProblem } from "./setup-state.ts";
import { pgSql } from "../src/db/sql.ts";

const USAGE = "usage: npm run events -- months | archive --before YYYY-MM [--dir DIR] [--actor NAME] | restore FILE";

const { values: opts, positionals } = commandLine(
  {
    before: { type: "string" },
    dir: { type: "string", default: "archive" },
    actor: { type: "string", default: "events-command" },
  },
  USAGE,
);
const [command, ...args] = positionals;

const config = loadConfig();
const problem = await setupProblem(config.databaseUrl);
if (problem) fail(problem, 2);
const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 1 });
try {
  if (command === "months") {
    for (const key of await madeMonthKeys(pgSql(pool))) {
      const table = partitionOf(parseMonth(key)!);
      const { rows } = await pool.query<{ calls: string; bytes: string }>(
        `SELECT (SELECT count(*) FROM ${table})::text AS calls, pg_total_relation_size('${table}')::text AS bytes`,
      );
      console.log(`${key}  ${rows[0]!.calls.padStart(10)} calls  ${Math.round(Number(rows[0]!.bytes) / 1024)} KiB`);
    }
    const waiting = await pool.query<{ n: string }>("SELECT count(*)::text AS n FROM usage_events_default");
    console.log(`waiting for their month: ${waiting.rows[0]!.n} calls`);
    const archived = await pool.query<{ month: string; status: string; calls: string | null; file: string | null }>(
      "SELECT to_char(month, 'YYYY-MM') AS month, status, calls::text, file FROM archived_months ORDER BY month",
    );
    for (const a of archived.rows) console.log(`${a.month}  ${a.status}  ${a.calls ?? "?"} calls  ${a.file ?? ""}`);
  } else if (command === "archive") {
    if (args.length) fail(`archive takes no positional arguments\n${USAGE}`, 2);
    const before = opts.before === undefined ? undefined : parseMonth(opts.before);
    if (!before) fail(`--before: expected a month as YYYY-MM, got ${opts.before ?? "nothing"}\n${USAGE}`, 2);
    const current = monthKey(monthOf(new Date()));
    const cutoff = opts.before!;
    if (cutoff > current)
      fail(`--before: ${cutoff} is after this month (${current}); only past months can be archived`, 2);
    const months = (await madeMonthKeys(pgSql(pool))).filter((k) => k < cutoff);
    if (months.length === 0) console.log(`no month before ${cutoff} to archive`);
    let refusals = 0;
    for (const key of months) {
      try {
        const a = await archiveMonth(pool, parseMonth(key)!, opts.dir!, opts.actor!);
        console.log(`${a.month}  archived  ${a.calls} calls  ${a.file}  sha256 ${a.sha256}`);
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        refusals++;
        console.error(`${key}  not archived: ${err.message}`);
      }
    }
    if (refusals) process.exitCode = 1;
  } else if (command === "restore") {
    if (args.length !== 1) fail(`restore takes one archive file\n${USAGE}`, 2);
    try {
      const r = await restoreMonth(pool, args[0]!);
      console.log(`${r.month}  restored  ${r.calls} calls from ${r.file}`);
    } catch (err) {
      if (!(err instanceof AppError) && (err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      fail(`not restored: ${(err as Error).message}`, 1);
    }
  } else {
    fail(USAGE, 2);
  }
} finally {
  await pool.end();
}
