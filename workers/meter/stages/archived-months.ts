// Calls dated in an archived month are not stored (src/usage/event-archive.ts): the chunk reads the
// archived months under the metering barrier, shared, which archiving takes exclusively before it
// lists a month. A chunk in flight then has finished, and every later one sees the month.
import { INVOICE_STAMPING_LOCK } from "../../../src/billing/period-invoices.ts";
import type { SqlClient } from "../../../src/db/pool.ts";
import { monthKey, monthOf } from "../../../src/usage/event-partitions.ts";
import type { RefusedReport } from "./call-writes.ts";
import type { MeteredEvent } from "./metered-event.ts";

/** The chunk's events split into those to store and those dated in an archived month (refused, with why). */
export async function refuseArchived(
  client: SqlClient,
  events: MeteredEvent[],
): Promise<{ kept: MeteredEvent[]; refused: RefusedReport[] }> {
  // the subquery runs once the lock in FROM is held
  const { rows } = await client.query<{ months: string[] }>({
    name: "meter.archived_months",
    text: `SELECT coalesce((SELECT array_agg(to_char(month, 'YYYY-MM')) FROM archived_months), '{}') AS months
           FROM pg_advisory_xact_lock_shared($1::bigint)`,
    values: [INVOICE_STAMPING_LOCK.toString()],
  });
  const archived = new Set(rows[0]?.months ?? []);
  if (archived.size === 0) return { kept: events, refused: [] };
  const kept: MeteredEvent[] = [];
  const refused: RefusedReport[] = [];
  for (const e of events) {
    const month = monthKey(monthOf(e.occurredAt));
    if (!archived.has(month)) kept.push(e);
    else
      refused.push({
        event: e,
        kind: "archived_month",
        reason: `the call is dated in ${month}, whose calls are archived; it replays once the month is restored (npm run events -- restore)`,
      });
  }
  return { kept, refused };
}
