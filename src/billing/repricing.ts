// A rate that takes effect in the past reprices the calls it covers, so every event carries the
// rate in force at its time. Calls a finalized invoice billed are repriced only by an explicit
// correction, whose difference (new price minus invoiced price) is kept as price adjustments
// that the consumer's next invoice bills, once. TDL cells and totals move by the same amounts.
import { refreshDailyOf } from "../usage/daily-rollup.ts";
import { settleCosts } from "../credits/settle-costs.ts";
import { prismaSql } from "../db/sql.ts";
import { Prisma, type Db } from "../db/client.ts";
import { policiesOf, rateFromRow, type StoredRate } from "../consumers/consumer.repository.ts";
import { repriceConsumers } from "../price-books/repricing.ts";
import { Decimal } from "../domain/money.ts";
import { pricesOf } from "../domain/pricing.ts";
import { TOKEN_TYPES, type TokenType } from "../domain/token-types.ts";
import { priceColumns, QUANTITY_SQL, quantityColumns, type TypedUsage } from "./token-type-sql.ts";

/** A consumer_rates row as stored. */
export type RateRow = StoredRate & { consumerId: string };
/** The rate with every token type's price as exact decimal text, for SQL. */
type RepricedRate = Pick<RateRow, "id" | "consumerId" | "effectiveFrom"> & { prices: Record<TokenType, string> };
export type Correction = { reason: string; actor: string };

/** The end of the window a rate covers: the next rate's start, or none. */
async function windowEnd(tx: Db, rate: RepricedRate): Promise<Date | null> {
  const next = await tx.consumerRate.findFirst({
    where: { consumerId: rate.consumerId, effectiveFrom: { gt: rate.effectiveFrom } },
    orderBy: { effectiveFrom: "asc" },
  });
  return next?.effectiveFrom ?? null;
}

type InvoicedGroup = TypedUsage & { invoice_id: string; period_id: string; model: string; ids: string[] };

/** Usage finalized invoices billed in the window at other prices, as price adjustments. */
async function recordAdjustments(
  tx: Db,
  rate: RepricedRate,
  until: Date | null,
  correction: Correction,
): Promise<number> {
  const groups = await tx.$queryRaw<InvoicedGroup[]>`
    SELECT e.invoice_id::text, i.period_id::text, e.model, ${priceColumns("e")}, ${quantityColumns(true, "e")}, array_agg(e.id ORDER BY e.id) AS ids
    FROM usage_events e JOIN invoices i ON i.id = e.invoice_id
    WHERE e.consumer_id = ${rate.consumerId}::uuid AND e.billable AND i.status = 'finalized'
      AND e.occurred_at >= ${rate.effectiveFrom} AND (${until}::timestamptz IS NULL OR e.occurred_at < ${until}::timestamptz)
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8`;
  const rows = groups.flatMap((g) =>
    TOKEN_TYPES.map((direction) => ({
      direction,
      quantity: g[`q_${direction}`],
      from: g[`p_${direction}`] ?? "0",
      to: rate.prices[direction],
    }))
      .filter(({ quantity, from, to }) => quantity > 0n && !new Prisma.Decimal(from).equals(new Prisma.Decimal(to)))
      .map(({ direction, quantity, from, to }) => ({
        consumerId: rate.consumerId,
        rateId: rate.id,
        reason: correction.reason,
        actor: correction.actor,
        adjustsInvoiceId: g.invoice_id,
        adjustsPeriodId: g.period_id,
        model: g.model,
        direction,
        quantity,
        fromUnitPrice: from,
        toUnitPrice: to,
        eventIds: g.ids,
      })),
  );
  if (rows.length) await tx.priceAdjustment.createMany({ data: rows });
  return rows.length;
}

/** Every billable call in the window takes the rate; cells and totals move by the cost difference. */
async function repriceEvents(tx: Db, rate: RepricedRate, until: Date | null): Promise<number> {
  const p = rate.prices;
  // each type's quantity times its price: Σ (quantity_t) * $n
  const costSql = Prisma.join(
    TOKEN_TYPES.map(
      (t) => Prisma.sql`(${Prisma.raw(QUANTITY_SQL[t].replace(/\b(\w+_tokens)\b/g, "e.$1"))}) * ${p[t]}::numeric`,
    ),
    " + ",
  );
  const changed = await tx.$queryRaw<{ id: string; occurred_at: Date; cost: string; previous_cost: string }[]>`
    WITH old AS (
      SELECT id, cost FROM usage_events
      WHERE consumer_id = ${rate.consumerId}::uuid AND billable
        AND occurred_at >= ${rate.effectiveFrom} AND (${until}::timestamptz IS NULL OR occurred_at < ${until}::timestamptz)
      FOR UPDATE
    ), changed AS (
      UPDATE usage_events e
      SET rate_id = ${rate.id}::uuid,
          input_cost_per_token = ${p.input}::numeric,
          output_cost_per_token = ${p.output}::numeric,
          cached_input_cost_per_token = ${p.cached_input}::numeric,
          cache_write_cost_per_token = ${p.cache_write}::numeric,
          reasoning_cost_per_token = ${p.reasoning}::numeric,
          request_fee = NULL,
          cost = ${costSql}
      FROM old WHERE e.id = old.id
      RETURNING e.id, e.occurred_at, e.cost, old.cost AS previous_cost, e.local_date, e.slot, e.level, e.cost - old.cost AS delta
    ), cells AS (
      UPDATE tdl_cells t SET cost = t.cost + d.delta
      FROM (SELECT local_date, slot, level, sum(delta) AS delta FROM changed GROUP BY 1, 2, 3) d
      WHERE t.consumer_id = ${rate.consumerId}::uuid AND t.local_date = d.local_date AND t.slot = d.slot AND t.level = d.level
      RETURNING 1
    ), totals AS (
      UPDATE consumer_totals SET cost = cost + (SELECT coalesce(sum(delta), 0) FROM changed), updated_at = now()
      WHERE consumer_id = ${rate.consumerId}::uuid
      RETURNING 1
    )
    SELECT id, occurred_at, cost::text, previous_cost::text FROM changed`;
  // credit covers each repriced call by its new cost
  const calls = changed.map((c) => ({
    eventId: c.id,
    consumerId: rate.consumerId,
    at: c.occurred_at,
    cost: new Decimal(c.cost),
    previousCost: new Decimal(c.previous_cost),
  }));
  await settleCosts(prismaSql(tx), calls, new Set(calls.map((c) => c.eventId)));
  await refreshDailyOf(
    tx,
    calls.map((c) => c.eventId),
  );
  return changed.length;
}

/**
 * Reprices the window of a rate just added, in the caller's transaction. A correction first keeps
 * what finalized invoices billed at other prices as adjustments; without one the caller has made
 * sure no finalized invoice covers the window (see rate-guard.ts).
 */
export async function applyRate(
  tx: Db,
  row: RateRow,
  correction?: Correction,
): Promise<{ repriced: number; adjustments: number }> {
  // a consumer priced by books as well: only the calls the new rate now prices move (a plan's
  // price for a named model beats the rate), so each call is priced again as the meter would
  const books = await policiesOf(tx, [row.consumerId]);
  if (books.plans.length > 0 || books.own.length > 0)
    return repriceConsumers(tx, [row.consumerId], row.effectiveFrom, correction);
  const prices = pricesOf(rateFromRow(row));
  const rate: RepricedRate = {
    id: row.id,
    consumerId: row.consumerId,
    effectiveFrom: row.effectiveFrom,
    prices: Object.fromEntries(TOKEN_TYPES.map((t) => [t, prices[t].toFixed()])) as Record<TokenType, string>,
  };
  const until = await windowEnd(tx, rate);
  const adjustments = correction ? await recordAdjustments(tx, rate, until, correction) : 0;
  return { repriced: await repriceEvents(tx, rate, until), adjustments };
}
