// The cost of a call reported by more than one source: the meter's own path (meterBatch, no
// Kafka) over the same calls reported by http-log alone, and by http-log plus Kong's three
// metering-and-billing CloudEvents, in random order, so most reports merge into a stored event.
// `node --import tsx scripts/bench/merge.ts [--calls 20000 --chunk 500 --runs 3]` on an empty,
// migrated database (DATABASE_URL; `npm run bench:merge` prepares one).
import { randomBytes, randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { closeServices, connectServices } from "../../src/bootstrap.ts";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { meterBatch, type RawMessage } from "../../workers/meter/pipeline.ts";
import { line, loadAverage, median } from "./stats.ts";

const { values: a } = parseArgs({
  options: {
    calls: { type: "string", default: "20000" },
    chunk: { type: "string", default: "500" },
    runs: { type: "string", default: "3" },
  },
});
const CALLS = Number(a.calls);
const CHUNK = Number(a.chunk);
const CONSUMERS = 100;

const config = loadConfig({ ...process.env, LOG_LEVEL: "silent" });
const services = await connectServices(config, createLogger("silent"));
const consumers = Array.from({ length: CONSUMERS }, (_, i) => ({ id: randomUUID(), username: `merge-bench-${i}` }));

/** One call's reports as raw-topic envelopes: the http-log entry (statistics only), and optionally its CloudEvents. */
function reportsOf(i: number, withEvents: boolean): object[] {
  const rid = randomBytes(16).toString("hex");
  const c = consumers[i % CONSUMERS]!;
  const at = Date.parse("2026-11-10T00:00:00Z") + i * 37;
  const time = new Date(at).toISOString();
  const log = {
    request: { id: rid, method: "POST", uri: "/chat", headers: {} },
    response: { status: 200, headers: {} },
    upstream_status: "200",
    started_at: at,
    consumer: c,
    route: { id: "r1", name: "chat" },
    ai: {
      proxy: {
        usage: { prompt_tokens: 300 + (i % 700), completion_tokens: 50 + (i % 90) },
        meta: { request_model: "gpt-4o", response_model: "gpt-4o" },
      },
    },
  };
  const out: object[] = [{ v: 1, id: rid, source: "kong-http-log", receivedAt: time, log }];
  if (!withEvents) return out;
  const ce = (id: string, type: string, data: object) => ({
    v: 1,
    id: rid,
    source: "kong-cloudevents",
    receivedAt: time,
    event: { specversion: "1.0", id, source: "kong://bench", type, subject: c.username, time, data },
  });
  out.push(
    ce(rid, "kong.api_request", { response_http_status: 200, upstream_status: 200 }),
    ce(`${rid}-in`, "kong.llm_request", {
      type: "request",
      tokens: 300 + (i % 700),
      model: "gpt-4o",
      api_request_id: rid,
    }),
    ce(`${rid}-out`, "kong.llm_request", {
      type: "response",
      tokens: 50 + (i % 90),
      model: "gpt-4o",
      api_request_id: rid,
    }),
  );
  return out;
}

/** Reports shuffled within a window of a few chunks, as partitions deliver them. */
function shuffled(reports: object[]): object[] {
  const out = [...reports];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.max(0, i - Math.floor(Math.random() * CHUNK * 2));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

async function run(withEvents: boolean): Promise<{ callsPerS: number; reportsPerS: number; merged: number }> {
  const reports = shuffled(Array.from({ length: CALLS }, (_, i) => reportsOf(i, withEvents)).flat());
  const t0 = performance.now();
  let merged = 0;
  for (let i = 0; i < reports.length; i += CHUNK) {
    const messages: RawMessage[] = reports
      .slice(i, i + CHUNK)
      .map((r, k) => ({ value: Buffer.from(JSON.stringify(r)), offset: String(i + k), partition: 0, topic: "bench" }));
    const result = await meterBatch(messages, { db: services.db, pool: services.pool, config });
    if (result.deadLetters.length) throw new Error(result.deadLetters[0]!.reason);
    merged += result.merged;
  }
  const s = (performance.now() - t0) / 1000;
  return { callsPerS: CALLS / s, reportsPerS: reports.length / s, merged };
}

const alone: number[] = [];
const both: number[] = [];
const bothReports: number[] = [];
for (let r = 0; r < Number(a.runs); r++) {
  alone.push((await run(false)).callsPerS);
  const m = await run(true);
  both.push(m.callsPerS);
  bothReports.push(m.reportsPerS);
  if (m.merged !== CALLS * 3) throw new Error(`expected ${CALLS * 3} merged reports, got ${m.merged}`);
}
console.log(
  line({
    bench: "merge",
    calls: CALLS,
    http_log_only_calls_per_s: Math.round(median(alone)),
    with_cloudevents_calls_per_s: Math.round(median(both)),
    with_cloudevents_reports_per_s: Math.round(median(bothReports)),
    ratio: (median(both) / median(alone)).toFixed(2),
    load_avg: loadAverage(),
  }),
);
await closeServices(services);
