// What a consumer's plan adds to an invoice beyond its calls at their event prices:
//   tier_adjustment  the period's quantities of a tiered price version rated through its tiers,
//                    minus what its calls cost at base prices (one line per version and token type)
//   plan_fee         the book's fee per period
//   minimum_top_up   what the period's usage (calls and tier adjustments) falls short of the
//                    book's minimum per period
// Each line is one amount (quantity 1, unit price = amount), so amount = quantity x unit price stays exact.
import { Prisma } from "../db/client.ts";
import { Decimal, ZERO } from "../domain/money.ts";
import { ratedAmount, tieringFromJson } from "../domain/tiers.ts";
import { TOKEN_TYPES } from "../domain/token-types.ts";
import { rateFromRow } from "../consumers/consumer.repository.ts";
import type { LineDraft } from "./invoice-lines.ts";
import { priceColumns, quantityColumns, type TypedUsage } from "./token-type-sql.ts";
import { joinPricingRecord } from "../usage/shared-records.ts";

type Tx = Prisma.TransactionClient;
export type PlanCharge = Omit<LineDraft, "position">;

/** A line billing one amount (a fee, a minimum, a credit), not token quantities. */
export const oneAmount = (
  model: string,
  direction: LineDraft["direction"],
  charge: string,
  amount: Decimal,
): PlanCharge => ({
  model,
  direction,
  charge,
  quantity: 1n,
  unitPrice: amount,
  amount,
  adjustsPeriodId: null,
  adjustsEventIds: [],
  priceAdjustmentId: null,
});

type TierGroup = TypedUsage & { price_id: string; entry: string | null; markup: string | null };

/** Tier adjustments of this period's calls on the invoice priced by a tiered version. */
async function tierAdjustments(tx: Tx, consumerId: string, invoiceId: string, startsAt: Date): Promise<PlanCharge[]> {
  const groups = await tx.$queryRaw<TierGroup[]>`
    SELECT e.price_id::text, rec.priced_by->>'entry' AS entry, rec.priced_by->>'markup_percent' AS markup, ${priceColumns("e")}, ${quantityColumns(true, "e")}
    FROM usage_events e JOIN price_book_prices pr ON pr.id = e.price_id ${Prisma.raw(joinPricingRecord("e", "rec"))}
    WHERE e.consumer_id = ${consumerId}::uuid AND e.invoice_id = ${invoiceId}::uuid AND e.occurred_at >= ${startsAt} AND e.billable AND pr.tiering IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
    ORDER BY 1, 3`;
  if (groups.length === 0) return [];
  const versions = new Map(
    (await tx.priceBookPrice.findMany({ where: { id: { in: [...new Set(groups.map((g) => g.price_id))] } } })).map(
      (p) => [p.id, p],
    ),
  );
  const out: PlanCharge[] = [];
  for (const g of groups) {
    const version = versions.get(g.price_id)!;
    const tiering = tieringFromJson(version.tiering)!;
    const markup = g.markup === null ? null : new Decimal(g.markup);
    for (const type of TOKEN_TYPES) {
      const quantity = BigInt(g[`q_${type}`]);
      const atEventPrices = new Decimal(g[`p_${type}`] ?? 0).times(quantity.toString());
      const difference = ratedAmount(tiering, rateFromRow(version), type, quantity, markup).minus(atEventPrices);
      if (!difference.isZero()) out.push(oneAmount(g.entry ?? version.model, type, "tier_adjustment", difference));
    }
  }
  return out;
}

/**
 * The plan's lines for an invoice whose usage lines are `lines`: tier adjustments, then the fee,
 * then the minimum top-up. The plan is the consumer's when the invoice is drafted.
 */
export async function planCharges(
  tx: Tx,
  consumerId: string,
  invoiceId: string,
  startsAt: Date,
  lines: readonly LineDraft[],
): Promise<PlanCharge[]> {
  const tiers = await tierAdjustments(tx, consumerId, invoiceId, startsAt);
  const plan = (await tx.consumer.findUnique({ where: { id: consumerId }, select: { plan: true } }))?.plan;
  const out = [...tiers];
  if (plan?.feePerPeriod) out.push(oneAmount(plan.name, null, "plan_fee", new Decimal(plan.feePerPeriod.toFixed())));
  if (plan?.minimumPerPeriod) {
    const usage = lines
      .filter((l) => l.adjustsPeriodId === null && l.priceAdjustmentId === null)
      .reduce((s, l) => s.plus(l.amount), ZERO);
    const shortfall = new Decimal(plan.minimumPerPeriod.toFixed()).minus(
      tiers.reduce((s, l) => s.plus(l.amount), usage),
    );
    if (shortfall.gt(0)) out.push(oneAmount(plan.name, null, "minimum_top_up", shortfall));
  }
  return out;
}
