// A price added to a book, or a plan given to a consumer, reprices the calls it now covers, so
// every event carries the price its consumer's plan and rates give it: calls that were unpriced
// become priced, calls priced by a fallback take the book's price. Calls on a finalized invoice
// are left as billed (the caller refuses a change reaching into a finalized period first).
// TDL cells and totals move by the same amounts, in the caller's transaction.
import { Prisma, type Db } from "../db/client.ts";
import { resolvePrice, type ResolvedPrice } from "../domain/consumer-pricing.ts";
import { Decimal } from "../domain/money.ts";
import { costOf, pricesOf } from "../domain/pricing.ts";
import { rateHistories } from "../consumers/consumer.repository.ts";
import { PlanCache } from "./plans.ts";

type EventRow = {
  id: string; consumer_id: string; model: string; occurred_at: Date; cost: Prisma.Decimal; price_id: string | null; rate_id: string | null;
  input_tokens: number; output_tokens: number; cached_input_tokens: number; cache_write_tokens: number; reasoning_tokens: number; unpriced: boolean;
};
type Change = { id: string; delta: Decimal; cost: Decimal; price?: ResolvedPrice };

const same = (a: Decimal, b: Prisma.Decimal) => a.equals(b.toFixed());

/** Reprices the billable, not finally invoiced calls of these consumers from `from` on; returns how many changed. */
export async function repriceConsumers(tx: Db, consumerIds: string[], from: Date): Promise<number> {
  if (consumerIds.length === 0) return 0;
  const { plans, own } = await new PlanCache().pricingOf(tx, consumerIds); // read inside the transaction: it sees the new price
  const rates = await rateHistories(tx, consumerIds);
  const rows = await tx.$queryRaw<EventRow[]>`
    SELECT e.id, e.consumer_id::text, e.model, e.occurred_at, e.cost, e.price_id::text, e.rate_id::text, e.input_tokens, e.output_tokens,
           e.cached_input_tokens, e.cache_write_tokens, e.reasoning_tokens, 'unpriced' = ANY(e.anomalies) AS unpriced
    FROM usage_events e LEFT JOIN invoices i ON i.id = e.invoice_id
    WHERE e.consumer_id = ANY(${consumerIds}::uuid[]) AND e.billable AND e.occurred_at >= ${from}
      AND (i.status IS NULL OR i.status <> 'finalized')
    ORDER BY e.id FOR UPDATE OF e`;
  const changes: Change[] = [];
  for (const r of rows) {
    const price = resolvePrice(plans.get(r.consumer_id), rates.get(r.consumer_id) ?? [], r.model, r.occurred_at, own.get(r.consumer_id));
    const tokens = { input: r.input_tokens, output: r.output_tokens, cachedInput: r.cached_input_tokens, cacheWrite: r.cache_write_tokens, reasoning: r.reasoning_tokens };
    const cost = price ? costOf(tokens, price) : new Decimal(0);
    const unchanged = same(cost, r.cost) && (price?.priceId ?? null) === r.price_id && (price?.id ?? null) === r.rate_id && r.unpriced === !price;
    if (!unchanged) changes.push({ id: r.id, delta: cost.minus(r.cost.toFixed()), cost, price });
  }
  if (changes.length > 0) await writeChanges(tx, changes);
  return changes.length;
}

async function writeChanges(tx: Db, changes: Change[]): Promise<void> {
  const col = (f: (c: Change) => string | null) => changes.map(f);
  const unit = (t: keyof ReturnType<typeof pricesOf>) => col((c) => (c.price ? pricesOf(c.price)[t].toFixed() : null));
  await tx.$executeRaw`
    WITH u AS (
      SELECT * FROM unnest(${col((c) => c.id)}::text[], ${col((c) => c.cost.toFixed())}::numeric[], ${col((c) => c.delta.toFixed())}::numeric[],
        ${col((c) => c.price?.id ?? null)}::uuid[], ${col((c) => c.price?.priceId ?? null)}::uuid[], ${col((c) => (c.price ? JSON.stringify(c.price.pricedBy) : null))}::text[],
        ${unit("input")}::numeric[], ${unit("output")}::numeric[], ${unit("cached_input")}::numeric[], ${unit("cache_write")}::numeric[], ${unit("reasoning")}::numeric[])
        AS t(id, cost, delta, rate_id, price_id, priced_by, ip, op, cip, cwp, rp)
    ), changed AS (
      UPDATE usage_events e
      SET cost = u.cost, rate_id = u.rate_id, price_id = u.price_id, priced_by = u.priced_by::jsonb,
          input_cost_per_token = u.ip, output_cost_per_token = u.op, cached_input_cost_per_token = u.cip,
          cache_write_cost_per_token = u.cwp, reasoning_cost_per_token = u.rp,
          anomalies = CASE WHEN u.ip IS NOT NULL THEN array_remove(e.anomalies, 'unpriced')
                           WHEN 'unpriced' = ANY(e.anomalies) THEN e.anomalies ELSE e.anomalies || 'unpriced'::text END
      FROM u WHERE e.id = u.id
      RETURNING e.consumer_id, e.local_date, e.slot, e.level, u.delta
    ), cells AS (
      UPDATE tdl_cells t SET cost = t.cost + d.delta
      FROM (SELECT consumer_id, local_date, slot, level, sum(delta) AS delta FROM changed GROUP BY 1, 2, 3, 4) d
      WHERE t.consumer_id = d.consumer_id AND t.local_date = d.local_date AND t.slot = d.slot AND t.level = d.level
      RETURNING 1
    )
    UPDATE consumer_totals t SET cost = t.cost + d.delta, updated_at = now()
    FROM (SELECT consumer_id, sum(delta) AS delta FROM changed GROUP BY 1) d
    WHERE t.consumer_id = d.consumer_id`;
}
