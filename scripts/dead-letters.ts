// The dead-letter command, the same operations as /v1/dead-letters:
//   list   [--stage ingest|meter] [--reason TEXT] [--from ISO] [--to ISO] [--limit N] [--json]
//   show   ID
//   replay ID... | --stage/--reason/--from/--to [--limit N]   (re-submits through the normal path)
// Exits 2 on a usage error, 1 when a named dead letter does not exist or a replay was refused.
import { loadConfig } from "../src/config.ts";
import { commandLine, fail } from "./command-line.ts";
import { setupProblem } from "./setup-state.ts";
import { createPrisma } from "../src/db/client.ts";
import { findDeadLetter, listDeadLetters, type DeadLetterFilter } from "../src/dead-letters/dead-letter.repository.ts";
import { replayDeadLetters } from "../src/dead-letters/replay.service.ts";
import { presentDeadLetter } from "../src/http/routes/dead-letters.presenter.ts";
import { createKafka } from "../src/kafka/client.ts";
import { UsageProducer } from "../src/kafka/producer.ts";
import { createLogger } from "../src/lib/logger.ts";

const USAGE =
  "usage: npm run dead-letters -- list|show|replay [ID...] [--stage ingest|meter] [--reason TEXT] [--from ISO] [--to ISO] [--limit N] [--json]";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const { values: opts, positionals } = commandLine(
  {
    stage: { type: "string" },
    reason: { type: "string" },
    from: { type: "string" },
    to: { type: "string" },
    limit: { type: "string" },
    json: { type: "boolean", default: false },
  },
  USAGE,
);
const [command, ...ids] = positionals;
const date = (name: string, v: string | undefined) => {
  if (v === undefined) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? fail(`--${name}: not a date: ${v}`, 2) : d;
};
if (opts.stage !== undefined && opts.stage !== "ingest" && opts.stage !== "meter")
  fail("--stage: must be ingest or meter", 2);
const limit = opts.limit === undefined ? 100 : Number(opts.limit);
if (!Number.isInteger(limit) || limit < 1 || limit > 1000) fail("--limit: must be a whole number from 1 to 1000", 2);
for (const id of ids) if (!UUID.test(id)) fail(`not a dead-letter id: ${id}`, 2);
const filter: DeadLetterFilter = {
  stage: opts.stage,
  reason: opts.reason,
  from: date("from", opts.from),
  to: date("to", opts.to),
  ...(ids.length ? { ids } : {}),
};

const config = loadConfig();
const problem = await setupProblem(config.databaseUrl);
if (problem) fail(problem, 2);
const db = createPrisma(config.databaseUrl);
try {
  if (command === "list") {
    const rows = (await listDeadLetters(db, filter, { limit })).map(presentDeadLetter);
    if (opts.json) console.log(JSON.stringify(rows, null, 2));
    else
      for (const r of rows)
        console.log(
          `${r.id}  ${r.failed_at}  ${r.stage.padEnd(6)} ${r.kind.padEnd(22)} ${r.reason.slice(0, 100)}${r.replay_count ? `  (replayed ${r.replay_count}x)` : ""}`,
        );
    if (!opts.json) console.log(`${rows.length} dead letter${rows.length === 1 ? "" : "s"}`);
  } else if (command === "show") {
    if (ids.length !== 1) fail(`show takes one id\n${USAGE}`, 2);
    const letter = await findDeadLetter(db, ids[0]!);
    if (!letter) fail(`no dead letter ${ids[0]}`, 1);
    console.log(JSON.stringify(presentDeadLetter(letter), null, 2));
  } else if (command === "replay") {
    if (!ids.length && !opts.stage && !opts.reason && !opts.from && !opts.to)
      fail(`replay needs ids or a filter\n${USAGE}`, 2);
    const producer = new UsageProducer(
      createKafka(config, createLogger("warn")),
      config.ingest.produceTimeoutMs,
      config.kafka.maxMessageBytes,
    );
    try {
      const outcomes = await replayDeadLetters(db, filter, limit, { config, producer });
      for (const o of outcomes)
        console.log(`${o.id}  ${o.stage.padEnd(6)} ${o.outcome}${o.detail ? `: ${o.detail}` : ""}`);
      const refused = outcomes.filter((o) => o.outcome === "still_refused").length;
      console.log(`${outcomes.length - refused} resubmitted, ${refused} still refused`);
      if (ids.length && outcomes.length < ids.length)
        fail(`${ids.length - outcomes.length} of the ids were not found`, 1);
      if (refused) process.exitCode = 1;
    } finally {
      await producer.disconnect();
    }
  } else {
    fail(USAGE, 2);
  }
} finally {
  await db.$disconnect();
}
