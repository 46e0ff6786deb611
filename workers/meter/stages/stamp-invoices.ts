// The invoice each new call will be billed on, stamped inside the chunk's transaction (the protocol
// is in src/billing/period-invoices.ts): billable calls of periods not closed yet get their
// consumer's invoice id for the period, and the (consumer, period) pairs are recorded for the run
// that will close it.
import type { SqlClient } from "../../../src/db/pool.ts";
import { startKey, type PeriodKind } from "../../../src/domain/billing-period.ts";
import { INVOICE_STAMPING_LOCK, periodInvoiceId } from "../../../src/billing/period-invoices.ts";
import type { MeteredEvent } from "./metered-event.ts";

export type BillingPeriods = { period: PeriodKind; timeZone: string };

/** Periods whose row exists are closed for good: a process remembers them without asking again. */
const closedKeys = new Set<string>();

async function closedAmong(client: SqlClient, keys: string[], b: BillingPeriods): Promise<Set<string>> {
  const scope = (key: string) => `${b.period}/${b.timeZone}/${key}`;
  const unknown = keys.filter((k) => !closedKeys.has(scope(k)));
  if (unknown.length) {
    const { rows } = await client.query<{ key: string }>({
      name: "meter.closed_periods",
      text: "SELECT key FROM billing_periods WHERE kind = $1::period_kind AND time_zone = $2 AND key = ANY($3::text[])",
      values: [b.period, b.timeZone, unknown],
    });
    for (const r of rows) closedKeys.add(scope(r.key));
  }
  return new Set(keys.filter((k) => closedKeys.has(scope(k))));
}

/**
 * Sets `invoiceId` on the chunk's events their period's invoice will bill, and clears it on the
 * rest (a chunk written again after a failure is stamped afresh). The events stay the same objects:
 * the caller finds each one's message by identity.
 */
export async function stampInvoices(client: SqlClient, events: MeteredEvent[], b: BillingPeriods): Promise<void> {
  const keyOf = (e: MeteredEvent) => startKey(e.localDate, b.period);
  for (const e of events) e.invoiceId = undefined;
  const billed = events.filter((e) => e.billable && e.consumerId);
  if (billed.length === 0) return;
  // shared with every other meter; a period closing waits for this transaction (see the protocol)
  await client.query({
    name: "meter.stamping_lock",
    text: "SELECT 1 FROM pg_advisory_xact_lock_shared($1::bigint)",
    values: [INVOICE_STAMPING_LOCK.toString()],
  });
  const closed = await closedAmong(client, [...new Set(billed.map(keyOf))], b);
  const pairs = new Map<string, { consumerId: string; key: string; invoiceId: string }>();
  for (const e of billed) {
    const key = keyOf(e);
    if (closed.has(key)) continue;
    const consumerId = e.consumerId!;
    let p = pairs.get(`${consumerId}/${key}`);
    if (!p) {
      p = { consumerId, key, invoiceId: periodInvoiceId(consumerId, { kind: b.period, timeZone: b.timeZone, key }) };
      pairs.set(`${consumerId}/${key}`, p);
    }
    e.invoiceId = p.invoiceId;
  }
  if (pairs.size === 0) return;
  const stamped = [...pairs.values()];
  await client.query({
    name: "meter.consumer_periods",
    text: `INSERT INTO consumer_periods (kind, time_zone, key, consumer_id)
           SELECT $1::period_kind, $2, k, c FROM unnest($3::text[], $4::uuid[]) AS t(k, c)
           ON CONFLICT DO NOTHING`,
    values: [b.period, b.timeZone, stamped.map((p) => p.key), stamped.map((p) => p.consumerId)],
  });
}
