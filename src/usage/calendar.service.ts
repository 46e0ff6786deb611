// A month of a consumer's TDL matrix at a glance: calls per local day and two-hour slot (all
// load levels together), and whether any level of that slot went past its configured limit.
import type { Db } from "../db/client.ts";
import { addDays } from "../domain/billing-period.ts";
import { cellLimit } from "../domain/limits.ts";
import { SLOTS, type TdlMatrix } from "../domain/tdl.ts";

export type CalendarDay = { date: string; calls: number[]; over_limit: boolean[] };

/** Every day of the month `YYYY-MM`, with zeros where nothing was metered. */
export async function tdlCalendar(
  db: Db,
  consumerId: string,
  month: string,
  limits: TdlMatrix,
): Promise<CalendarDay[]> {
  const first = `${month}-01`;
  const next = `${addDays(first, 32).slice(0, 7)}-01`;
  const rows = await db.$queryRaw<{ day: string; slot: number; level: number; calls: number }[]>`
    SELECT to_char(local_date, 'YYYY-MM-DD') AS day, slot, level, calls FROM tdl_cells
    WHERE consumer_id = ${consumerId}::uuid AND local_date >= ${first}::date AND local_date < ${next}::date AND calls <> 0`;
  const days = new Map<string, CalendarDay>();
  for (let d = first; d < next; d = addDays(d, 1))
    days.set(d, { date: d, calls: Array(SLOTS).fill(0), over_limit: Array(SLOTS).fill(false) });
  for (const r of rows) {
    const day = days.get(r.day)!;
    day.calls[r.slot]! += r.calls;
    const limit = cellLimit(limits, r.slot, r.level);
    if (limit > 0 && r.calls > limit) day.over_limit[r.slot] = true;
  }
  return [...days.values()];
}

/** Billable spend per consumer between two local dates [from, to): for the operator's list. */
export async function spendByConsumer(db: Db, from: string, to: string) {
  const rows = await db.$queryRaw<{ consumer_id: string; calls: bigint; cost: string }[]>`
    SELECT consumer_id::text AS consumer_id, sum(calls)::bigint AS calls, sum(cost)::text AS cost FROM tdl_cells
    WHERE local_date >= ${from}::date AND local_date < ${to}::date GROUP BY consumer_id`;
  return rows.map((r) => ({ consumer_id: r.consumer_id, billable_calls: Number(r.calls), cost: r.cost }));
}
