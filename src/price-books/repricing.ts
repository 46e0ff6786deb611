// A price added to a book, or a plan given to a consumer, reprices the calls it now covers, so
// every event carries the price its consumer's plan and rates give it: calls that were unpriced
// become priced, calls priced by a fallback take the book's price. Calls on a finalized invoice
// stay as billed, unless the change is a correction: then they take the new price too and the
// difference is kept as price adjustments that each consumer's next invoice bills, once.
// TDL cells and totals move by the same amounts, in the caller's transaction.
import { refreshDailyOf } from "../usage/daily-rollup.ts";
import { settleCosts } from "../credits/settle-costs.ts";
import { prismaSql } from "../db/sql.ts";
import { Prisma, type Db } from "../db/client.ts";
import { resolvePrice, type ResolvedPrice } from "../domain/consumer-pricing.ts";
import { Decimal } from "../domain/money.ts";
import { costOf, pricesOf } from "../domain/pricing.ts";
import { rateHistories } from "../consumers/consumer.repository.ts";
import { PlanCache } from "./plans.ts";
import { TOKEN_TYPES } from "../domain/token-types.ts";
import { priceColumns, quantityColumns, type TypedUsage } from "../billing/token-type-sql.ts";
import { pricingRecordId, storePricingRecords } from "../usage/shared-records.ts";

/** A billable call with its token quantities and the unit prices it is billed at (p_/q_ columns). */
type EventRow = TypedUsage & {
  id: string;
  consumer_id: string;
  model: string;
  occurred_at: Date;
  cost: Prisma.Decimal;
  price_id: string | null;
  rate_id: string | null;
  /** Set when a finalized invoice billed the call: that invoice and its period. */
  final_invoice_id: string | null;
  final_period_id: string | null;
  input_tokens: number;
  output_tokens: number;
  cached_input_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  unpriced: boolean;
};
type Change = { id: string; consumerId: string; at: Date; delta: Decimal; cost: Decimal; price?: ResolvedPrice };
export type Correction = { reason: string; actor: string };
export type Repriced = { repriced: number; adjustments: number };

const same = (a: Decimal, b: Prisma.Decimal) => a.equals(b.toFixed());

/**
 * Reprices the billable calls of these consumers from `from` on. Calls a finalized invoice billed
 * are repriced only with a correction, which records what they were billed at as price adjustments.
 */
export async function repriceConsumers(
  tx: Db,
  consumerIds: string[],
  from: Date,
  correction?: Correction,
): Promise<Repriced> {
  if (consumerIds.length === 0) return { repriced: 0, adjustments: 0 };
  // read inside the transaction: it sees the new price
  const { plans, own } = await new PlanCache().pricingOf(tx, consumerIds);
  const rates = await rateHistories(tx, consumerIds);
  const rows = await tx.$queryRaw<EventRow[]>`
    SELECT e.id, e.consumer_id::text, e.model, e.occurred_at, e.cost, e.price_id::text, e.rate_id::text, e.input_tokens, e.output_tokens,
           e.cached_input_tokens, e.cache_write_tokens, e.reasoning_tokens, 'unpriced' = ANY(e.anomalies) AS unpriced,
           CASE WHEN i.status = 'finalized' THEN i.id::text END AS final_invoice_id, CASE WHEN i.status = 'finalized' THEN i.period_id::text END AS final_period_id,
           ${priceColumns("e")}, ${quantityColumns(false, "e")}
    FROM usage_events e LEFT JOIN invoices i ON i.id = e.invoice_id
    WHERE e.consumer_id = ANY(${consumerIds}::uuid[]) AND e.billable AND e.occurred_at >= ${from}
      AND (${correction !== undefined} OR i.status IS NULL OR i.status <> 'finalized')
    ORDER BY e.id FOR UPDATE OF e`;
  const changes: Change[] = [];
  const adjusted: Array<{ row: EventRow; price?: ResolvedPrice }> = [];
  for (const r of rows) {
    const price = resolvePrice(
      plans.get(r.consumer_id),
      rates.get(r.consumer_id) ?? [],
      r.model,
      r.occurred_at,
      own.get(r.consumer_id),
    );
    const tokens = {
      input: r.input_tokens,
      output: r.output_tokens,
      cachedInput: r.cached_input_tokens,
      cacheWrite: r.cache_write_tokens,
      reasoning: r.reasoning_tokens,
    };
    const cost = price ? costOf(tokens, price) : new Decimal(0);
    const unchanged =
      same(cost, r.cost) &&
      (price?.priceId ?? null) === r.price_id &&
      (price?.id ?? null) === r.rate_id &&
      r.unpriced === !price;
    if (unchanged) continue;
    changes.push({
      id: r.id,
      consumerId: r.consumer_id,
      at: r.occurred_at,
      delta: cost.minus(r.cost.toFixed()),
      cost,
      price,
    });
    if (r.final_invoice_id && correction) adjusted.push({ row: r, price });
  }
  const adjustments = correction ? await recordAdjustments(tx, adjusted, correction) : 0;
  if (changes.length > 0) {
    await writeChanges(tx, changes);
    await refreshDailyOf(
      tx,
      changes.map((c) => c.id),
    );
  }
  // credit covers each repriced call by its new cost
  const costs = changes.map((c) => ({
    eventId: c.id,
    consumerId: c.consumerId,
    at: c.at,
    cost: c.cost,
    previousCost: c.cost.minus(c.delta),
  }));
  await settleCosts(prismaSql(tx), costs, new Set(changes.map((c) => c.id)));
  return { repriced: changes.length, adjustments };
}

/**
 * What finalized invoices billed at other prices, per invoice, model, type and price pair: billed once by the next
 * invoice.
 */
async function recordAdjustments(
  tx: Db,
  adjusted: Array<{ row: EventRow; price?: ResolvedPrice }>,
  correction: Correction,
): Promise<number> {
  const groups = new Map<string, Prisma.PriceAdjustmentCreateManyInput & { quantity: bigint; eventIds: string[] }>();
  for (const { row, price } of adjusted) {
    const to = price ? pricesOf(price) : undefined;
    for (const type of TOKEN_TYPES) {
      const quantity = BigInt(row[`q_${type}`]);
      const from = new Decimal(row[`p_${type}`] ?? 0);
      const toPrice = to?.[type] ?? new Decimal(0);
      if (quantity === 0n || from.equals(toPrice)) continue;
      const key = [row.final_invoice_id, row.model, type, from.toFixed(), toPrice.toFixed()].join("|");
      const g = groups.get(key) ?? {
        consumerId: row.consumer_id,
        kind: "price",
        rateId: price?.id ?? null,
        reason: correction.reason,
        actor: correction.actor,
        adjustsInvoiceId: row.final_invoice_id!,
        adjustsPeriodId: row.final_period_id!,
        model: row.model,
        direction: type,
        quantity: 0n,
        fromUnitPrice: from.toFixed(),
        toUnitPrice: toPrice.toFixed(),
        eventIds: [],
      };
      g.quantity += quantity;
      g.eventIds.push(row.id);
      groups.set(key, g);
    }
  }
  if (groups.size > 0) await tx.priceAdjustment.createMany({ data: [...groups.values()] });
  return groups.size;
}

async function writeChanges(tx: Db, changes: Change[]): Promise<void> {
  const col = (f: (c: Change) => string | null) => changes.map(f);
  const unit = (t: keyof ReturnType<typeof pricesOf>) => col((c) => (c.price ? pricesOf(c.price)[t].toFixed() : null));
  await tx.$executeRaw`
    WITH u AS (
      SELECT * FROM unnest(${col((c) => c.id)}::text[], ${col((c) => c.cost.toFixed())}::numeric[], ${col((c) => c.delta.toFixed())}::numeric[],
        ${col((c) => c.price?.id ?? null)}::uuid[], ${col((c) => c.price?.priceId ?? null)}::uuid[], ${col((c) => (c.price ? (c.price.pricedByJson ?? JSON.stringify(c.price.pricedBy)) : null))}::text[],
        ${unit("input")}::numeric[], ${unit("output")}::numeric[], ${unit("cached_input")}::numeric[], ${unit("cache_write")}::numeric[], ${unit("reasoning")}::numeric[],
        ${col((c) => c.price?.requestFee?.toFixed() ?? null)}::numeric[])
        AS t(id, cost, delta, rate_id, price_id, priced_by, ip, op, cip, cwp, rp, fee)
    ), records AS (${Prisma.raw(storePricingRecords("(SELECT array_agg(u.priced_by::jsonb) FROM u)"))}
    ), changed AS (
      UPDATE usage_events e
      SET cost = u.cost, rate_id = u.rate_id, price_id = u.price_id, priced_by_id = ${Prisma.raw(pricingRecordId("u.priced_by::jsonb"))},
          input_cost_per_token = u.ip, output_cost_per_token = u.op, cached_input_cost_per_token = u.cip,
          cache_write_cost_per_token = u.cwp, reasoning_cost_per_token = u.rp, request_fee = u.fee,
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
