// usage_daily: per consumer, local day, model and route, the sums the usage API reports
// (usage-sums.ts). A range's whole days are read from it, the partial days at its ends from the
// events, so a 90-day read adds up a few hundred rows instead of every call.
//
// Every writer of usage_events moves the rollup in its own transaction, from the rows as stored:
// the meter adds its new calls and, for a call a later report merged into, takes out the row as it
// was before the merge (dailyOf, read while the row is locked) and adds it as it is after; a
// repricing recomputes the days it touched. Rows are written in key order, so two writers never
// deadlock on them.
import type { Db } from "../db/client.ts";
import { Prisma } from "../db/client.ts";
import type { SqlClient } from "../db/pool.ts";
import { DAILY_ROW_OF_EVENTS, ROUTE_SQL, SUM_COLUMNS, SUMS_OF_EVENTS } from "./usage-sums.ts";

const KEYS = ["consumer_id", "local_date", "model", "route"] as const;
const KEY_SQL = `consumer_id, local_date, model, ${ROUTE_SQL}`;
const NAMES = SUM_COLUMNS.map((c) => c.name);

/** One group's sums, every value as text; taken out of the rollup again by moveDaily. */
export type DailyRow = Record<string, string | null>;

/** Stored calls by id and time: the time bounds keep the lookup to the months the calls are in. */
type StoredCalls = Array<{ id: string; occurredAt: Date }>;
const callsParameters = (calls: StoredCalls) => {
  const times = calls.map((c) => c.occurredAt.getTime());
  return [calls.map((c) => c.id), new Date(Math.min(...times)), new Date(Math.max(...times))];
};
/** A lookup per id (a probe whatever the plan knows of the months' sizes), in the months of the time range. */
const CALLS_FROM =
  "unnest($1::text[]) AS k(id) CROSS JOIN LATERAL (SELECT * FROM usage_events s WHERE s.id = k.id AND s.occurred_at BETWEEN $2 AND $3) e";

/** The rollup rows these stored calls make up now: what a merge is about to change. */
export async function dailyOf(client: SqlClient, calls: StoredCalls): Promise<DailyRow[]> {
  if (calls.length === 0) return [];
  const { rows } = await client.query<DailyRow>({
    name: "daily.of",
    text: `SELECT consumer_id::text, to_char(local_date, 'YYYY-MM-DD') AS local_date, model, ${ROUTE_SQL} AS route,
             ${SUMS_OF_EVENTS}
           FROM ${CALLS_FROM} GROUP BY ${KEY_SQL}`,
    values: callsParameters(calls),
  });
  return rows;
}

const UPSERT_TAIL = `
  ON CONFLICT (${KEYS.join(", ")}) DO UPDATE SET ${NAMES.map((n) => `${n} = usage_daily.${n} + EXCLUDED.${n}`).join(", ")}`;

const MOVE_DAILY = `
  WITH parts AS (
    SELECT ${DAILY_ROW_OF_EVENTS} FROM ${CALLS_FROM} GROUP BY 1, 2, 3, 4
    UNION ALL
    SELECT consumer_id, local_date, model, route, ${NAMES.map((n) => `-${n}`).join(", ")}
    FROM jsonb_to_recordset($4::jsonb) AS b(consumer_id uuid, local_date date, model text, route text,
      ${SUM_COLUMNS.map((c) => `${c.name} ${c.type}`).join(", ")})
  )
  INSERT INTO usage_daily (${KEYS.join(", ")}, ${NAMES.join(", ")})
  SELECT ${KEYS.join(", ")}, ${NAMES.map((n) => `sum(${n})`).join(", ")} FROM parts
  GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
  ${UPSERT_TAIL}`;

/** Adds the rollup rows of these stored calls and takes out `before` (dailyOf of merged calls). */
export async function moveDaily(client: SqlClient, calls: StoredCalls, before: DailyRow[]): Promise<void> {
  if (calls.length === 0 && before.length === 0) return;
  const values = calls.length ? callsParameters(calls) : [[], new Date(0), new Date(0)];
  await client.query({ name: "daily.move", text: MOVE_DAILY, values: [...values, JSON.stringify(before)] });
}

/**
 * Recomputes the rollup of these consumers' local days from their events (after a repricing).
 * Events are found by time, a day either side of the local date, so that any time zone's day is in.
 */
async function refreshDaily(db: Db, days: Array<{ consumerId: string; localDate: string }>): Promise<void> {
  if (days.length === 0) return;
  const keys = [...new Map(days.map((d) => [`${d.consumerId}|${d.localDate}`, d])).values()].sort((a, b) =>
    `${a.consumerId}|${a.localDate}` < `${b.consumerId}|${b.localDate}` ? -1 : 1,
  );
  const consumers = keys.map((k) => k.consumerId);
  const dates = keys.map((k) => k.localDate);
  // locked in key order first, as the meter locks them: a delete's own order is arbitrary
  await db.$queryRaw`
    SELECT 1 FROM usage_daily d JOIN unnest(${consumers}::uuid[], ${dates}::date[]) AS k(c, d)
      ON d.consumer_id = k.c AND d.local_date = k.d
    ORDER BY d.consumer_id, d.local_date, d.model, d.route FOR UPDATE OF d`;
  await db.$executeRaw`
    DELETE FROM usage_daily d USING unnest(${consumers}::uuid[], ${dates}::date[]) AS k(c, d)
    WHERE d.consumer_id = k.c AND d.local_date = k.d`;
  await db.$executeRaw(
    Prisma.sql`
      INSERT INTO usage_daily (${Prisma.raw(KEYS.join(", "))}, ${Prisma.raw(NAMES.join(", "))})
      SELECT ${Prisma.raw(DAILY_ROW_OF_EVENTS)}
      FROM unnest(${consumers}::uuid[], ${dates}::date[]) AS k(c, d)
      JOIN usage_events e ON e.consumer_id = k.c AND e.local_date = k.d
        AND e.occurred_at >= k.d - 1 AND e.occurred_at < k.d + 2
      GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
      ON CONFLICT (${Prisma.raw(KEYS.join(", "))}) DO UPDATE SET ${Prisma.raw(NAMES.map((n) => `${n} = EXCLUDED.${n}`).join(", "))}`,
  );
}

/** Recomputes the rollup of the days these events fall on (after they were repriced). */
export async function refreshDailyOf(db: Db, eventIds: string[]): Promise<void> {
  if (eventIds.length === 0) return;
  const days = await db.$queryRaw<Array<{ consumerId: string; localDate: string }>>`
    SELECT DISTINCT consumer_id::text AS "consumerId", to_char(local_date, 'YYYY-MM-DD') AS "localDate"
    FROM usage_events WHERE id = ANY(${eventIds}::text[]) AND consumer_id IS NOT NULL`;
  await refreshDaily(db, days);
}
