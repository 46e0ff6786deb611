// One fault scenario: tokenmeter's API and meter as separate processes, on a broker and a
// PostgreSQL cluster of the suite's own; Kong-like senders post every batch twice while a fault is
// injected; once the meter has caught up, every acknowledged entry must be stored exactly once and
// the totals, TDL cells and invoices must equal the sums of the distinct events.
import { randomBytes, randomUUID } from "node:crypto";
import { execFile } from "node:child_process";
import { mkdirSync } from "node:fs";
import { promisify } from "node:util";
import { Kafka, logLevel } from "kafkajs";
import { draftInvoice } from "../../src/billing/invoice.service.ts";
import { recordPeriod } from "../../src/billing/period.service.ts";
import { loadConfig } from "../../src/config.ts";
import { createPrisma, type PrismaClient } from "../../src/db/client.ts";
import { periodOfKey } from "../../src/domain/billing-period.ts";
import { Decimal } from "../../src/domain/money.ts";
import { kong38Ai, kongLog } from "../fixtures/kong-logs.ts";
import { localBroker } from "../helpers/kafka-broker.ts";
import { aggregateMismatches, waitForMeter } from "../helpers/pipeline-audit.ts";
import { KongLikeClient } from "./kong-client.ts";
import { PgCluster } from "./pg-cluster.ts";
import { ServiceProcess } from "./service-process.ts";

const run = promisify(execFile);
const ROOT = new URL("../..", import.meta.url).pathname;
const SECRET = "faults-ingest-secret";
const PERIOD_KEY = "2026-10-01"; // every call falls in October 2026 (UTC), a closed month

export type Fault = "none" | "meter-kill" | "broker-kill" | "api-kill" | "postgres-restart";
export type ScenarioOptions = {
  fault: Fault;
  entries: number;
  batchSize: number;
  consumers: number;
  kills: number;
  senders: number;
};
export type ScenarioReport = {
  fault: Fault;
  posted: number;
  acknowledged: number;
  unacknowledged: number;
  storedOnce: number;
  storedTwice: number;
  lost: number;
  totals: "ok" | "mismatch";
  tdl: "ok" | "mismatch";
  invoices: "ok" | "mismatch";
  /** Posts that needed more than one attempt (the client felt the fault). */
  retriedPosts: number;
  /** Chunks the meter retried because a dependency was down (its /metrics, current process). */
  meterRetries: number;
  restarts: number;
  seconds: number;
};

export const formatReport = (r: ScenarioReport) =>
  `fault=${r.fault} posted=${r.posted} acknowledged=${r.acknowledged} unacknowledged=${r.unacknowledged} stored_once=${r.storedOnce} ` +
  `stored_twice=${r.storedTwice} lost=${r.lost} totals=${r.totals} tdl=${r.tdl} invoices=${r.invoices} retried_posts=${r.retriedPosts} ` +
  `meter_retries=${r.meterRetries} restarts=${r.restarts} seconds=${r.seconds}`;

/** The suite's own broker and PostgreSQL cluster, with a migrated template database. */
export class FaultEnvironment {
  readonly pg: PgCluster;
  readonly broker: ReturnType<typeof localBroker>;
  readonly logDir = `${ROOT}.faults`;

  constructor(readonly ports = { pg: 55433, broker: 19292, api: 18180, meter: 18181 }) {
    this.pg = new PgCluster(ports.pg);
    this.broker = localBroker(ports.broker);
  }

  async setUp(): Promise<void> {
    mkdirSync(this.logDir, { recursive: true });
    await this.pg.create();
    await this.pg.createDatabase("faults_template");
    await run("npx", ["--no-install", "prisma", "migrate", "deploy"], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: this.pg.url("faults_template") },
    });
    await this.broker.reset();
    await this.broker.start();
  }

  async tearDown(): Promise<void> {
    await this.broker.reset().catch(() => {});
    await this.pg.drop();
  }
}

function makeEntries(n: number, consumers: string[]): Array<Record<string, unknown>> {
  const start = Date.parse(`${PERIOD_KEY}T00:00:00Z`);
  return Array.from({ length: n }, (_, i) => {
    const consumer = { id: consumers[i % consumers.length]! };
    const startedAt = start + Math.floor((((i * 7919) % 1000) / 1000) * 30 * 86_400_000);
    // most entries carry provider figures only; every fifth a chat payload to count
    return i % 5 === 0 ? kongLog({ consumer, startedAt }) : kongLog({ consumer, startedAt, ai: kong38Ai() });
  });
}

const idOf = (e: Record<string, unknown>) => (e.request as { id: string }).id;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function runScenario(env: FaultEnvironment, o: ScenarioOptions): Promise<ScenarioReport> {
  const t0 = Date.now();
  const suffix = randomBytes(4).toString("hex");
  const database = `faults_${suffix}`;
  await env.pg.createDatabase(database, "faults_template");
  const common = {
    NODE_ENV: "test",
    LOG_LEVEL: process.env.FAULTS_LOG_LEVEL ?? "warn",
    DATABASE_URL: env.pg.url(database),
    KAFKA_BROKERS: `127.0.0.1:${env.ports.broker}`,
    KAFKA_TOPIC_RAW: `faults.${suffix}.raw`,
    KAFKA_TOPIC_DLQ: `faults.${suffix}.dlq`,
    KAFKA_GROUP_ID: `faults-${suffix}`,
    KAFKA_PARTITIONS: "2",
    REDIS_PREFIX: `faults-${suffix}`,
    INGEST_SECRET: SECRET,
    ADMIN_API_KEY: "faults-admin-key",
    INGEST_PRODUCE_TIMEOUT_MS: "3000",
    DEFAULT_INPUT_COST_PER_TOKEN: "0.000001",
    DEFAULT_OUTPUT_COST_PER_TOKEN: "0.000002",
    BILLING_TIMEZONE: "UTC",
    METER_SESSION_TIMEOUT_MS: "10000", // a killed meter's partitions move after 10 s, not 30
  };
  const api = new ServiceProcess(
    "api",
    "src/server.ts",
    { ...common, PORT: String(env.ports.api), HOST: "127.0.0.1" },
    `http://127.0.0.1:${env.ports.api}/livez`,
    `${env.logDir}/${suffix}-api.log`,
  );
  const meter = new ServiceProcess(
    "meter",
    "workers/meter/main.ts",
    { ...common, METER_HTTP_PORT: String(env.ports.meter), HOST: "127.0.0.1" },
    `http://127.0.0.1:${env.ports.meter}/livez`,
    `${env.logDir}/${suffix}-meter.log`,
  );
  const db = createPrisma(env.pg.url(database));
  try {
    await api.start();
    await meter.start();
    const consumers = Array.from({ length: o.consumers }, () => randomUUID());
    const entries = makeEntries(o.entries, consumers);
    const batches: string[][] = [];
    const bodies: string[] = [];
    for (let i = 0; i < entries.length; i += o.batchSize) {
      const batch = entries.slice(i, i + o.batchSize);
      batches.push(batch.map(idOf));
      bodies.push(JSON.stringify(batch));
    }
    const acked = new Array<boolean>(bodies.length).fill(false);
    const client = new KongLikeClient(`http://127.0.0.1:${env.ports.api}/ingest/kong`, SECRET);
    let retriedPosts = 0;
    const post = async (b: number) => {
      const outcome = await client.post(bodies[b]!);
      if (outcome.attempts > 1) retriedPosts++;
      acked[b] = outcome.acknowledged || acked[b]!;
    };
    let sent = 0;
    const senders = Array.from({ length: o.senders }, async () => {
      for (let b = sent++; b < bodies.length; b = sent++) {
        // every batch twice: at once, and again after the next one (a Kong retry after a timeout)
        await post(b);
        if (b > 0) await post(b - 1);
      }
    });
    const faults = injectFaults(env, o, { api, meter }, () => sent / bodies.length);
    await Promise.all([...senders, faults]);
    await post(bodies.length - 1);

    const kafka = new Kafka({ clientId: "faults-audit", brokers: [common.KAFKA_BROKERS], logLevel: logLevel.NOTHING });
    await waitForMeter(
      kafka,
      { rawTopic: common.KAFKA_TOPIC_RAW, deadLetterTopic: common.KAFKA_TOPIC_DLQ, groupId: common.KAFKA_GROUP_ID },
      180_000,
    );
    const meterRetries = await scrapeSum(
      `http://127.0.0.1:${env.ports.meter}/metrics`,
      "tokenmeter_meter_retries_total",
    );
    return {
      ...(await audit(db, batches, acked, o.fault)),
      retriedPosts,
      meterRetries,
      restarts: api.restarts + meter.restarts,
      seconds: Math.round((Date.now() - t0) / 1000),
    };
  } finally {
    await meter.stop();
    await api.stop();
    await db.$disconnect();
  }
}

/** Injects the scenario's fault `kills` times, spread over the posting (progress() goes 0 -> 1). */
async function injectFaults(
  env: FaultEnvironment,
  o: ScenarioOptions,
  p: { api: ServiceProcess; meter: ServiceProcess },
  progress: () => number,
) {
  if (o.fault === "none") return;
  for (let k = 1; k <= o.kills; k++) {
    while (progress() < k / (o.kills + 1)) await sleep(20);
    switch (o.fault) {
      case "meter-kill":
        await p.meter.kill(); // mid-batch: the meter is busy while senders post
        await sleep(300);
        await p.meter.restart();
        break;
      case "api-kill":
        await p.api.kill();
        await sleep(500);
        await p.api.restart();
        break;
      case "broker-kill":
        await env.broker.kill();
        await sleep(2000);
        await env.broker.start();
        break;
      case "postgres-restart":
        await env.pg.stop();
        await sleep(3000);
        await env.pg.start();
        break;
    }
  }
}

async function audit(
  db: PrismaClient,
  batches: string[][],
  acked: boolean[],
  fault: Fault,
): Promise<Omit<ScenarioReport, "retriedPosts" | "meterRetries" | "restarts" | "seconds">> {
  const posted = new Set(batches.flat());
  const acknowledged = new Set(batches.flatMap((ids, i) => (acked[i] ? ids : [])));
  const stored = new Set(
    (await db.usageEvent.findMany({ where: { id: { in: [...posted] } }, select: { id: true } })).map((e) => e.id),
  );
  const lost = [...acknowledged].filter((id) => !stored.has(id)).length;
  const [counted] = await db.$queryRaw<
    Array<{ totals: bigint | null; events: bigint; cells: bigint | null; billable: bigint }>
  >`
    SELECT (SELECT sum(calls) FROM consumer_totals) AS totals, (SELECT count(*) FROM usage_events) AS events,
           (SELECT sum(calls) FROM tdl_cells) AS cells, (SELECT count(*) FROM usage_events WHERE billable) AS billable`;
  const mismatches = await aggregateMismatches(db);
  return {
    fault,
    posted: posted.size,
    acknowledged: acknowledged.size,
    unacknowledged: posted.size - acknowledged.size,
    storedOnce: stored.size,
    storedTwice: Math.max(0, Number(counted!.totals ?? 0n) - Number(counted!.events)),
    lost,
    totals: mismatches.length === 0 && Number(counted!.totals ?? 0n) === Number(counted!.events) ? "ok" : "mismatch",
    tdl: Number(counted!.cells ?? 0n) === Number(counted!.billable) ? "ok" : "mismatch",
    invoices: (await invoicesMatchEvents(db)) ? "ok" : "mismatch",
  };
}

/** Drafts October's invoices, as the invoice worker would, and compares each with its events. */
async function invoicesMatchEvents(db: PrismaClient): Promise<boolean> {
  const settings = loadConfig({ BILLING_TIMEZONE: "UTC" }).billing;
  const period = await recordPeriod(db, periodOfKey(PERIOD_KEY, "monthly", "UTC"));
  const rows = await db.$queryRaw<Array<{ consumer_id: string; cost: string }>>`
    SELECT consumer_id::text, sum(cost)::text AS cost FROM usage_events
    WHERE billable AND consumer_id IS NOT NULL AND occurred_at >= ${period.startsAt} AND occurred_at < ${period.endsAt}
    GROUP BY 1`;
  for (const r of rows) {
    const { invoiceId } = await draftInvoice(db, {
      consumerId: r.consumer_id,
      periodId: period.id,
      settings,
      now: new Date(),
      finalize: false,
    });
    const invoice = invoiceId ? await db.invoice.findUnique({ where: { id: invoiceId } }) : null;
    if (!invoice || !new Decimal(invoice.subtotal.toFixed()).equals(new Decimal(r.cost))) return false;
  }
  return true;
}

/** The sum of a counter's series in a Prometheus text page (0 when absent or unreachable). */
async function scrapeSum(url: string, name: string): Promise<number> {
  const text = await fetch(url, { signal: AbortSignal.timeout(5000) })
    .then((r) => r.text())
    .catch(() => "");
  return text
    .split("\n")
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((s, l) => s + Number(l.split(" ").pop()), 0);
}
