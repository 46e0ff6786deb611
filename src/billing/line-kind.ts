// What an invoice line bills, for the API and the FOCUS export alike.
type LineLike = { charge?: string | null; adjustsPeriodId: string | null; priceAdjustment?: { kind: string } | null };

/**
 * usage: this period's calls; late_usage: calls of a finalized period that arrived late;
 * price_correction: a rate correction's difference; usage_correction: tokens a later report of an
 * already invoiced call added (or took away); tier_adjustment, plan_fee, minimum_top_up: the plan's
 * charges (src/billing/plan-charges.ts); credit: prepaid credit that paid for the invoice's calls
 * (src/billing/invoice-credits.ts).
 */
export function lineKind(l: LineLike): string {
  if (l.charge) return l.charge;
  if (l.priceAdjustment) return l.priceAdjustment.kind === "tokens" ? "usage_correction" : "price_correction";
  return l.adjustsPeriodId ? "late_usage" : "usage";
}
