// Accounts for every message on a stack's raw topic once the meter has caught up: each one is a
// stored usage event or a meter dead letter, and the totals and TDL cells equal the sums of the
// stored events. Used by the randomized pipeline test and the fault suite.
import { randomBytes } from "node:crypto";
import type { Kafka, KafkaMessage } from "kafkajs";
import type { PrismaClient } from "../../src/db/client.ts";
import { header } from "./stack.ts";
import { DAILY_ROW_OF_EVENTS, SUM_COLUMNS } from "../../src/usage/usage-sums.ts";
import { waitFor } from "./wait.ts";

type Topics = { rawTopic: string; deadLetterTopic: string; groupId: string };

async function withAdmin<T>(kafka: Kafka, f: (a: ReturnType<Kafka["admin"]>) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await f(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Messages ever written to a topic (sum of its partitions' end offsets). */
const topicSize = (kafka: Kafka, topic: string) =>
  withAdmin(kafka, async (a) =>
    (await a.fetchTopicOffsets(topic)).reduce((s, p) => s + Number(p.high) - Number(p.low), 0),
  );

/** Waits until the meter's committed offsets reach the end of every raw-topic partition. */
export async function waitForMeter(kafka: Kafka, t: Topics, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    () =>
      withAdmin(kafka, async (a) => {
        const ends = await a.fetchTopicOffsets(t.rawTopic);
        const [committed] = await a.fetchOffsets({ groupId: t.groupId, topics: [t.rawTopic] });
        return ends.every((e) => {
          const c = committed?.partitions.find((p) => p.partition === e.partition)?.offset ?? "-1";
          return Number(e.high) === 0 || Number(c) === Number(e.high);
        });
      }),
    timeoutMs,
    "the meter's committed offsets to reach the end of the raw topic",
  );
}

type Read = { partition: number; message: KafkaMessage };

/** Every message of a topic with its partition, read from the beginning. */
async function readAll(kafka: Kafka, topic: string): Promise<Read[]> {
  const n = await topicSize(kafka, topic);
  if (n === 0) return [];
  const consumer = kafka.consumer({ groupId: `audit-${randomBytes(4).toString("hex")}`, maxWaitTimeInMs: 100 });
  const seen: Read[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ partition, message }) => void seen.push({ partition, message }) });
    await waitFor(() => seen.length >= n, 30_000, `${n} messages on ${topic}`);
    return seen;
  } finally {
    await consumer.disconnect();
  }
}

export type Audit = {
  rawMessages: number;
  stored: number;
  deadLettered: number;
  /** Raw messages neither stored nor dead-lettered: lost. Must be empty. */
  unaccounted: string[];
  /** Consumers whose totals or TDL cells differ from the sums of their events. Must be empty. */
  aggregateMismatches: string[];
  /** Stored event ids (sorted) and meter dead letters' (event id, reason), for comparing runs. */
  storedIds: string[];
  deadLetters: Array<[string, string]>;
};

export async function auditPipeline(kafka: Kafka, db: PrismaClient, t: Topics): Promise<Audit> {
  const raw = await readAll(kafka, t.rawTopic);
  const letters = (await readAll(kafka, t.deadLetterTopic)).filter((r) => header(r.message, "tm-stage") === "meter");
  const ids = raw.map((r) => (JSON.parse(r.message.value!.toString()) as { id: string }).id);
  const stored = new Set(
    (await db.usageEvent.findMany({ where: { id: { in: [...new Set(ids)] } }, select: { id: true } })).map((e) => e.id),
  );
  const lettered = new Set(
    letters.map((r) => `${header(r.message, "tm-source-partition")}|${header(r.message, "tm-source-offset")}`),
  );
  const unaccounted: string[] = [];
  let storedCount = 0;
  let letteredCount = 0;
  raw.forEach((r, i) => {
    if (stored.has(ids[i]!)) storedCount++;
    else if (lettered.has(`${r.partition}|${r.message.offset}`)) letteredCount++;
    else unaccounted.push(`partition ${r.partition} offset ${r.message.offset} id ${ids[i]}`);
  });
  return {
    rawMessages: raw.length,
    stored: storedCount,
    deadLettered: letteredCount,
    unaccounted,
    aggregateMismatches: await aggregateMismatches(db),
    storedIds: [...stored].sort(),
    deadLetters: letters
      .map((r): [string, string] => [header(r.message, "tm-event-id") ?? "", header(r.message, "tm-reason") ?? ""])
      .sort(),
  };
}

/** Consumers whose running totals, TDL cells or daily rollup are not the sums of their stored events. */
export async function aggregateMismatches(db: PrismaClient): Promise<string[]> {
  return [...(await totalMismatches(db)), ...(await cellMismatches(db)), ...(await dailyMismatches(db))];
}

/** Daily rollup rows that are not, column by column, the sums of their day's events (zero rows match nothing). */
export async function dailyMismatches(db: PrismaClient): Promise<string[]> {
  const rows = await db.$queryRawUnsafe<Array<{ problem: string }>>(`
    WITH ev AS (
      SELECT ${DAILY_ROW_OF_EVENTS} FROM usage_events GROUP BY 1, 2, 3, 4),
    d AS (SELECT * FROM usage_daily WHERE ${SUM_COLUMNS.map((c) => `${c.name} <> 0`).join(" OR ")})
    SELECT format('daily %s %s %s %s: events %s rollup %s', coalesce(ev.consumer_id, d.consumer_id), coalesce(ev.local_date, d.local_date),
                  coalesce(ev.model, d.model), coalesce(ev.route, d.route),
                  row(${SUM_COLUMNS.map((c) => `ev.${c.name}`).join(", ")}), row(${SUM_COLUMNS.map((c) => `d.${c.name}`).join(", ")})) AS problem
    FROM ev FULL JOIN d ON ev.consumer_id IS NOT DISTINCT FROM d.consumer_id AND ev.local_date = d.local_date
      AND ev.model = d.model AND ev.route = d.route
    WHERE ${SUM_COLUMNS.map((c) => `ev.${c.name} IS DISTINCT FROM d.${c.name}`).join(" OR ")}`);
  return rows.map((r) => r.problem);
}

/** TDL cells that are not, cell by cell and token type by token type, the sums of their billable events. */
async function cellMismatches(db: PrismaClient): Promise<string[]> {
  const rows = await db.$queryRaw<Array<{ problem: string }>>`
    WITH ev AS (
      SELECT consumer_id, local_date, slot, level, count(*) AS calls, sum(input_tokens) AS i, sum(output_tokens) AS o,
             sum(cached_input_tokens) AS ci, sum(cache_write_tokens) AS cw, sum(reasoning_tokens) AS r, sum(cost) AS cost
      FROM usage_events WHERE consumer_id IS NOT NULL AND billable GROUP BY 1, 2, 3, 4),
    c AS (SELECT * FROM tdl_cells WHERE calls <> 0 OR input_tokens <> 0 OR output_tokens <> 0 OR cost <> 0)
    SELECT format('cell %s %s %s/%s: events %s/%s/%s/%s/%s/%s/%s cell %s/%s/%s/%s/%s/%s/%s', coalesce(ev.consumer_id, c.consumer_id),
                  coalesce(ev.local_date, c.local_date), coalesce(ev.slot, c.slot), coalesce(ev.level, c.level),
                  ev.calls, ev.i, ev.o, ev.ci, ev.cw, ev.r, ev.cost, c.calls, c.input_tokens, c.output_tokens,
                  c.cached_input_tokens, c.cache_write_tokens, c.reasoning_tokens, c.cost) AS problem
    FROM ev FULL JOIN c USING (consumer_id, local_date, slot, level)
    WHERE ev.calls IS DISTINCT FROM c.calls::bigint OR ev.i IS DISTINCT FROM c.input_tokens OR ev.o IS DISTINCT FROM c.output_tokens
       OR ev.ci IS DISTINCT FROM c.cached_input_tokens OR ev.cw IS DISTINCT FROM c.cache_write_tokens
       OR ev.r IS DISTINCT FROM c.reasoning_tokens OR ev.cost IS DISTINCT FROM c.cost`;
  return rows.map((r) => r.problem);
}

async function totalMismatches(db: PrismaClient): Promise<string[]> {
  const rows = await db.$queryRaw<Array<{ consumer_id: string; problem: string }>>`
    WITH ev AS (
      SELECT consumer_id, count(*) AS calls, count(*) FILTER (WHERE billable) AS billable_calls,
             coalesce(sum(input_tokens) FILTER (WHERE billable), 0) AS input_tokens,
             coalesce(sum(output_tokens) FILTER (WHERE billable), 0) AS output_tokens,
             coalesce(sum(cached_input_tokens + cache_write_tokens + reasoning_tokens) FILTER (WHERE billable), 0) AS parts,
             coalesce(sum(cost) FILTER (WHERE billable), 0) AS cost
      FROM usage_events WHERE consumer_id IS NOT NULL GROUP BY consumer_id),
    cells AS (SELECT consumer_id, sum(calls) AS calls, sum(cost) AS cost FROM tdl_cells GROUP BY consumer_id)
    SELECT coalesce(ev.consumer_id, t.consumer_id)::text AS consumer_id,
           format('events %s/%s/%s/%s/%s totals %s/%s/%s/%s/%s cells %s/%s', ev.calls, ev.billable_calls, ev.input_tokens, ev.output_tokens, ev.cost,
                  t.calls, t.billable_calls, t.input_tokens, t.output_tokens, t.cost, cells.calls, cells.cost) AS problem
    FROM ev FULL JOIN consumer_totals t ON t.consumer_id = ev.consumer_id LEFT JOIN cells ON cells.consumer_id = coalesce(ev.consumer_id, t.consumer_id)
    WHERE ev.calls IS DISTINCT FROM t.calls OR ev.billable_calls IS DISTINCT FROM t.billable_calls
       OR ev.input_tokens IS DISTINCT FROM t.input_tokens OR ev.output_tokens IS DISTINCT FROM t.output_tokens
       OR ev.cost IS DISTINCT FROM t.cost OR coalesce(cells.calls, 0) <> ev.billable_calls OR coalesce(cells.cost, 0) <> ev.cost
       OR ev.parts IS DISTINCT FROM t.cached_input_tokens + t.cache_write_tokens + t.reasoning_tokens`;
  return rows.map((r) => `${r.consumer_id}: ${r.problem}`);
}
