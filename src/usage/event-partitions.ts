// usage_events is partitioned by month of occurred_at (UTC). A month's table is made before its
// calls arrive: the billing tick keeps the previous, current and next two months made. A call dated
// where no month is made yet waits in usage_events_default and moves into its month when that is
// made, in the transaction that attaches it, so it is never in neither or in both.
import type { PrismaClient } from "../db/client.ts";
import { prismaSql, type Sql } from "../db/sql.ts";

export const DEFAULT_PARTITION = "usage_events_default";
/** Months kept made around the current one. */
const BEHIND = 1;
const AHEAD = 2;
/** Serializes makers (several workers tick): a month is made once. */
const PARTITIONS_LOCK = 7_468_205_300_002n;

export type Month = { year: number; month: number };

const pad = (n: number) => String(n).padStart(2, "0");
export const monthKey = (m: Month) => `${m.year}-${pad(m.month)}`;
export const partitionOf = (m: Month) => `usage_events_${m.year}_${pad(m.month)}`;
const monthStart = (m: Month) => new Date(Date.UTC(m.year, m.month - 1, 1));
const addMonths = (m: Month, k: number): Month => {
  const d = new Date(Date.UTC(m.year, m.month - 1 + k, 1));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1 };
};
export const monthOf = (d: Date): Month => ({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1 });
/** [from, to) of a month, as the partition bound. */
export const boundsOf = (m: Month) => ({ from: monthStart(m), to: monthStart(addMonths(m, 1)) });

const MONTH_TABLE = /^usage_events_(\d{4})_(\d{2})$/;

/** "YYYY-MM" as a month (null when it is not one). */
export function parseMonth(s: string): Month | null {
  const m = /^(\d{4})-(\d{2})$/.exec(s);
  if (!m) return null;
  const month = { year: Number(m[1]), month: Number(m[2]) };
  return month.month >= 1 && month.month <= 12 && month.year >= 1970 ? month : null;
}

/** The months whose partitions are attached now ("YYYY-MM"), oldest first. */
export async function madeMonthKeys(sql: Sql): Promise<string[]> {
  const rows = await sql.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'usage_events'::regclass ORDER BY 1`,
    [],
  );
  return rows.flatMap((r) => {
    const m = MONTH_TABLE.exec(r.name);
    return m ? [`${m[1]}-${m[2]}`] : [];
  });
}

/**
 * Makes the month's table unless it is made: created like usage_events, the month's calls moved in
 * from the default partition, then attached (which builds its indexes). False when it was made already.
 */
export async function makeMonth(db: PrismaClient, m: Month): Promise<boolean> {
  const table = partitionOf(m);
  const { from, to } = boundsOf(m);
  return db.$transaction(
    async (tx) => {
      await tx.$queryRaw`SELECT 1 FROM pg_advisory_xact_lock(${PARTITIONS_LOCK}::bigint)`;
      if ((await madeMonthKeys(prismaSql(tx))).includes(monthKey(m))) return false;
      await tx.$executeRawUnsafe(`CREATE TABLE ${table} (LIKE usage_events INCLUDING DEFAULTS)`);
      await tx.$executeRawUnsafe(
        `WITH moved AS (DELETE FROM ${DEFAULT_PARTITION} WHERE occurred_at >= $1 AND occurred_at < $2 RETURNING *)
         INSERT INTO ${table} SELECT * FROM moved`,
        from,
        to,
      );
      await tx.$executeRawUnsafe(
        `ALTER TABLE usage_events ATTACH PARTITION ${table} FOR VALUES FROM ('${from.toISOString()}') TO ('${to.toISOString()}')`,
      );
      return true;
    },
    { timeout: 600_000 },
  );
}

/**
 * Makes the months whose calls wait in the default partition (those stored before usage_events was
 * partitioned, or dated where no month was made), from 2000 up to the months kept ahead of `now`:
 * a call dated further ahead stays where it is. Returns the months made.
 */
export async function makeMonthsOfWaitingCalls(db: PrismaClient, now: Date): Promise<string[]> {
  const { from } = boundsOf({ year: 2000, month: 1 });
  const { to } = boundsOf(addMonths(monthOf(now), AHEAD));
  const rows = await db.$queryRawUnsafe<Array<{ at: Date }>>(
    `SELECT DISTINCT date_trunc('month', occurred_at, 'UTC') AS at FROM ${DEFAULT_PARTITION}
     WHERE occurred_at >= $1 AND occurred_at < $2 ORDER BY 1`,
    from,
    to,
  );
  const made: string[] = [];
  for (const r of rows) if (await makeMonth(db, monthOf(r.at))) made.push(monthKey(monthOf(r.at)));
  return made;
}

/**
 * Makes the months around `now` that are not made yet; returns the ones made. One catalog read when
 * they are all made (every billing tick), a transaction only for a month that is missing.
 */
export async function makeMonthsAround(db: PrismaClient, now: Date): Promise<string[]> {
  const made = new Set(await madeMonthKeys(prismaSql(db)));
  const missing = Array.from({ length: BEHIND + AHEAD + 1 }, (_, k) => addMonths(monthOf(now), k - BEHIND)).filter(
    (m) => !made.has(monthKey(m)),
  );
  const out: string[] = [];
  for (const m of missing) if (await makeMonth(db, m)) out.push(monthKey(m));
  return out;
}
