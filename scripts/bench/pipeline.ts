// The metering pipeline under Kong-like load (batches of 100 entries, 8 posted at a time), with the
// API and the meter as separate processes, broker and PostgreSQL on the same 2-core machine:
//   ingest alone (meter stopped) -> meter alone (draining what ingest queued) -> end to end ->
//   time from POST to visible at half the end-to-end rate -> meter alone with several processes.
// Each rate is the median of several runs; every line carries the machine's load average.
import { randomUUID } from "node:crypto";
import { makeBatches, postAtRate, postClosedLoop, type Mode } from "./kong-load.ts";
import { startApi, startMeterProcess, type ChunkReport, type MeterProcess } from "./processes.ts";
import { clock, line, loadAverage, median, percentile } from "./stats.ts";
import { cpuNow, cpuPerEvent } from "./cpu.ts";
import { storagePerEvent } from "./storage.ts";
import pg from "pg";
import { loadConfig } from "../../src/config.ts";

export type PipelineOptions = {
  events: number;
  runs: number;
  batchSize: number;
  concurrency: number;
  consumers: number;
  meters: number;
  latencySeconds: number;
  profileDir?: string;
};
export type PipelineFigures = {
  ingest: number;
  meter: number;
  meterScaled: number;
  endToEnd: number;
  p50: number;
  p99: number;
  /** End to end: CPU microseconds per event of each part (API, meter, broker, PostgreSQL). */
  cpuPerEvent: Record<string, number>;
};

const INGEST_SECRET = "bench-ingest-secret";
const ADMIN_KEY = "bench-admin-key";

/** Counts what the meter processes committed, and when each id became visible while asked. */
class Progress {
  total = 0;
  first = 0;
  last = 0;
  readonly visibleAt = new Map<string, number>();
  readonly chunks: ChunkReport[] = [];
  onChunk = (r: ChunkReport) => {
    if (this.total === 0) this.first = r.at;
    this.total += r.n;
    this.last = r.at;
    this.chunks.push(r);
    for (const id of r.ids ?? []) this.visibleAt.set(id, r.at);
  };
  async until(total: number, timeoutMs = 600_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.total < total) {
      if (Date.now() > deadline)
        throw new Error(`the meter committed ${this.total} of ${total} events within ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

/** The meter's rate over a drain, as the median of its thirds (each third by chunk time). */
function drainRate(chunks: ChunkReport[]): number {
  const rates: number[] = [];
  const per = Math.ceil(chunks.length / 3);
  for (let i = 0; i < chunks.length; i += per) {
    const part = chunks.slice(i, i + per);
    const before = chunks[i - 1]?.at ?? chunks[0]!.at;
    const n = part.reduce((s, c) => s + c.n, 0) - (i === 0 ? chunks[0]!.n : 0);
    const seconds = (part[part.length - 1]!.at - before) / 1000;
    if (seconds > 0) rates.push(n / seconds);
  }
  return median(rates);
}

export async function runPipeline(mode: Mode, o: PipelineOptions): Promise<PipelineFigures> {
  const suffix = randomUUID().slice(0, 8);
  const env = {
    ...process.env,
    LOG_LEVEL: "warn",
    INGEST_SECRET,
    ADMIN_API_KEY: ADMIN_KEY,
    KAFKA_TOPIC_RAW: `bench.${suffix}.raw`,
    KAFKA_TOPIC_DLQ: `bench.${suffix}.dlq`,
    KAFKA_GROUP_ID: `bench-${suffix}`,
    METER_HTTP_PORT: "0",
  };
  const profile = (name: string) => (o.profileDir ? { profileDir: o.profileDir, name: `${mode}-${name}` } : { name });
  const api = await startApi({ env, ...profile("api") });
  const poster = { address: api.address, secret: INGEST_SECRET };
  const consumers = await createConsumers(api.address, o.consumers, suffix);
  const batchesPerRun = Math.ceil(o.events / o.batchSize);
  const perRun = batchesPerRun * o.batchSize;
  let seed = 1;
  const batches = () => makeBatches(mode, consumers, batchesPerRun, o.batchSize, seed++);
  const print = (stage: string, fields: Record<string, string | number>) =>
    console.log(line({ pipeline: stage, mode, ...fields, load_avg: loadAverage() }));

  // 1. ingest alone: the meter is not running, so Kafka holds every run's events
  const ingestRates: number[] = [];
  const cpu = (meters: MeterProcess[] = []) => cpuNow({ api: [api.pid], meter: meters.map((m) => m.pid) });
  const ingestCpu = cpu();
  for (let r = 0; r < o.runs; r++) {
    const run = batches();
    const t0 = clock();
    const failed = await postClosedLoop(poster, run, o.concurrency);
    if (failed) throw new Error(`${failed} posts failed during ingest`);
    ingestRates.push(perRun / ((clock() - t0) / 1000));
  }
  const ingest = median(ingestRates);
  print("ingest_alone", {
    events: perRun * o.runs,
    batch: o.batchSize,
    concurrency: o.concurrency,
    events_per_s: Math.round(ingest),
    ...cpuPerEvent(ingestCpu, cpu(), perRun * o.runs),
  });

  // 2. meter alone: one process drains them
  const drained = new Progress();
  const meterCpu = cpu();
  let meters: MeterProcess[] = [await startMeterProcess({ env, ...profile("meter") }, drained.onChunk)];
  await drained.until(perRun * o.runs);
  const meter = drainRate(drained.chunks);
  print("meter_alone", {
    processes: 1,
    events: drained.total,
    events_per_s: Math.round(meter),
    // the meter's start-up (loading tsx and the ranks) is inside its figure
    ...cpuPerEvent(meterCpu, cpu(meters), drained.total),
  });

  // 3. end to end: ingest and meter together, as fast as the load generator's 8 posts go
  const e2eRates: number[] = [];
  const e2eCpu = cpu(meters);
  for (let r = 0; r < o.runs; r++) {
    const run = batches();
    const before = drained.total;
    const t0 = clock();
    const failed = await postClosedLoop(poster, run, o.concurrency);
    if (failed) throw new Error(`${failed} posts failed end to end`);
    await drained.until(before + perRun);
    e2eRates.push(perRun / ((drained.last - t0) / 1000));
  }
  const endToEnd = median(e2eRates);
  const e2eCpuPerEvent = cpuPerEvent(e2eCpu, cpu(meters), perRun * o.runs);
  print("end_to_end", {
    events: perRun * o.runs,
    events_per_s: Math.round(endToEnd),
    runs: e2eRates.map((x) => Math.round(x)).join("/"),
    ...e2eCpuPerEvent,
  });

  // 4. POST -> visible (committed, so the usage API returns it) at half the end-to-end rate
  const rate = endToEnd / 2;
  const latencyBatches = makeBatches(
    mode,
    consumers,
    Math.max(10, Math.ceil((rate * o.latencySeconds) / o.batchSize)),
    o.batchSize,
    seed++,
  );
  const postedAt = new Map<string, number>();
  meters[0]!.reportIds(true);
  const before = drained.total;
  await postAtRate(poster, latencyBatches, rate, (b, at) => {
    for (const id of b.ids) postedAt.set(id, at);
  });
  await drained.until(before + latencyBatches.length * o.batchSize);
  const latencies = [...postedAt].map(([id, at]) => drained.visibleAt.get(id)! - at).sort((a, b) => a - b);
  const p50 = percentile(latencies, 50);
  const p99 = percentile(latencies, 99);
  print("visible_latency", {
    offered_events_per_s: Math.round(rate),
    events: latencies.length,
    p50_ms: Math.round(p50),
    p99_ms: Math.round(p99),
    max_ms: Math.round(latencies[latencies.length - 1]!),
  });
  await Promise.all(meters.map((m) => m.stop()));

  // 5. horizontal: queue the same amount again, then several meter processes in one group drain it
  let meterScaled = meter;
  if (o.meters > 1) {
    for (let r = 0; r < o.runs; r++) await postClosedLoop(poster, batches(), o.concurrency);
    const scaled = new Progress();
    meters = await Promise.all(
      Array.from({ length: o.meters }, (_, i) =>
        startMeterProcess({ env, name: `${mode}-meter-${i + 2}` }, scaled.onChunk),
      ),
    );
    await scaled.until(perRun * o.runs);
    meterScaled = drainRate(scaled.chunks);
    print("meter_alone", {
      processes: o.meters,
      events: scaled.total,
      events_per_s: Math.round(meterScaled),
      ratio_to_one: (meterScaled / meter).toFixed(2),
    });
    await Promise.all(meters.map((m) => m.stop()));
  }

  const expected = drained.total + (o.meters > 1 ? perRun * o.runs : 0);
  const calls = await callsShown(api.address, consumers);
  await api.stop();
  if (calls !== expected) throw new Error(`the usage API shows ${calls} calls, ${expected} were posted`);
  await printStorage(mode, consumers);
  return { ingest, meter, meterScaled, endToEnd, p50, p99, cpuPerEvent: e2eCpuPerEvent };
}

/**
 * A plan for every bench consumer, so each call's price is looked up by its model: the shipped
 * list prices and a few patterns. A build without price books answers 404 and the consumers keep
 * their own rates (the comparison `npm run bench` before and after price books makes).
 */
async function createPlan(address: string, suffix: string): Promise<string | null> {
  const post = (path: string, body: unknown) =>
    fetch(`${address}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const name = `bench-${suffix}`;
  const patterns = ["gpt-4o-mini*", "gpt-4o*", "claude-3-5-*", "gemini-*", "*-latest"].map((model, i) => ({
    model,
    input_cost_per_token: `0.00000${i + 1}`,
    output_cost_per_token: `0.0000${i + 1}`,
  }));
  const created = await post("/v1/price-books", { name, prices: patterns });
  if (created.status === 404) return null;
  if (created.status !== 201)
    throw new Error(`creating the bench plan answered ${created.status}: ${await created.text()}`);
  const imported = await post(`/v1/price-books/${name}/import`, {
    format: "shipped",
    effective_from: "2000-01-01T00:00:00Z",
  });
  if (imported.status !== 200)
    throw new Error(`loading the catalog answered ${imported.status}: ${await imported.text()}`);
  return name;
}

async function createConsumers(address: string, n: number, suffix: string): Promise<string[]> {
  const plan = await createPlan(address, suffix);
  console.log(
    `bench consumers priced by ${plan ? `plan ${plan} (shipped catalog and patterns)` : "their own rates (this build has no price books)"}`,
  );
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const kongId = randomUUID();
    const res = await fetch(`${address}/v1/consumers`, {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({
        username: `bench-${suffix}-${i}`,
        kong_id: kongId,
        metadata: { input_cost_per_token: "0.000000083", output_cost_per_token: "0.00000033" },
      }),
    });
    if (res.status !== 201) throw new Error(`creating a consumer answered ${res.status}: ${await res.text()}`);
    if (plan) {
      const put = await fetch(`${address}/v1/consumers/${kongId}/plan`, {
        method: "PUT",
        headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ price_book: plan }),
      });
      if (put.status !== 200) throw new Error(`giving a consumer the plan answered ${put.status}: ${await put.text()}`);
    }
    ids.push(kongId);
  }
  return ids;
}

/** What the meter stored, in bytes per event: this mode's rows, and the table and indexes so far. */
async function printStorage(mode: Mode, consumers: string[]) {
  const db = new pg.Client({ connectionString: loadConfig(process.env).databaseUrl });
  await db.connect();
  try {
    const s = await storagePerEvent(db, consumers);
    console.log(
      line({
        pipeline: "stored",
        mode,
        row_bytes: s.row,
        largest_columns: s.columns,
        table_bytes_per_event_all_modes: Math.round(s.table),
        index_bytes_per_event_all_modes: Math.round(s.indexes),
      }),
    );
  } finally {
    await db.end();
  }
}

async function callsShown(address: string, consumers: string[]): Promise<number> {
  let calls = 0;
  for (const id of consumers) {
    const res = await fetch(
      `${address}/v1/consumers/${id}/usage?from=${new Date(Date.now() - 86_400_000).toISOString()}&to=${new Date(Date.now() + 86_400_000).toISOString()}`,
      { headers: { authorization: `Bearer ${ADMIN_KEY}` } },
    );
    calls += ((await res.json()) as { totals: { calls: number } }).totals.calls;
  }
  return calls;
}
