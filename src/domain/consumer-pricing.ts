// The price of one call of one consumer: its plan's price for the call's model, or its own rate
// (the seed's input/output_cost_per_token), or nothing: a billable call nothing prices is
// `unpriced`, never priced at zero. Pure; the explanation travels with the event.
//
// Order: the consumer's own price naming the model (its overrides), the plan's entry naming it
// (exact, dated, pattern; see price-book.ts), the consumer's own rate, then the plan's default
// entry. A consumer's own rate is a price agreed for that consumer, so it beats a plan's catch-all,
// never a price for a named model.
import { Decimal, PRICE_SCALE } from "./money.ts";
import type { PriceBookIndex, PriceMatchKind } from "./price-book.ts";
import { rateAt, type Rate, type RatePrices } from "./pricing.ts";

/** viaTag: the consumer has no plan of its own and is billed by the plan of this tag. */
export type Plan = {
  bookId: string;
  bookName: string;
  version: number;
  markupPercent: Decimal | null;
  index: PriceBookIndex;
  viaTag?: string;
};

/** How a call was priced, stored on its event and shown by GET /v1/events/:id. */
type PricedBy =
  | {
      source: "plan" | "override";
      book: string;
      book_id: string;
      book_version: number;
      entry: string;
      match: PriceMatchKind;
      price_id: string;
      markup_percent: string | null;
      via_tag?: string;
    }
  | { source: "consumer_rate"; rate_id: string };

/** pricedByJson: pricedBy as stored, serialized once per price rather than once per call. */
export type ResolvedPrice = RatePrices & { id?: string; priceId?: string; pricedBy: PricedBy; pricedByJson?: string };

const PRICE_FIELDS = [
  "inputCostPerToken",
  "outputCostPerToken",
  "cachedInputCostPerToken",
  "cacheWriteCostPerToken",
  "reasoningCostPerToken",
  "requestFee",
] as const;

/** A plan price after the consumer's markup (negative: a discount), rounded half up to a price's 12 places. */
export function markedUp(prices: RatePrices, percent: Decimal | null): RatePrices {
  const factor = percent === null ? new Decimal(1) : new Decimal(100).plus(percent).div(100);
  const out: Partial<Record<(typeof PRICE_FIELDS)[number], Decimal | null>> = {};
  for (const f of PRICE_FIELDS) {
    const p = prices[f];
    out[f] = p == null ? null : p.times(factor).toDecimalPlaces(PRICE_SCALE, Decimal.ROUND_HALF_UP);
  }
  return out as RatePrices;
}

/** The same price version, match and markup resolve to one object per book version (the meter asks per call). */
function fromPlan(
  plan: Plan,
  m: NonNullable<ReturnType<PriceBookIndex["match"]>>,
  source: "plan" | "override" = "plan",
): ResolvedPrice {
  const markup = plan.markupPercent?.toFixed() ?? null;
  return plan.index.memo(`${source}|${m.price.id}|${m.match}|${markup}|${plan.viaTag ?? ""}`, () => {
    const pricedBy: PricedBy = {
      source,
      book: plan.bookName,
      book_id: plan.bookId,
      book_version: plan.version,
      entry: m.entry,
      match: m.match,
      price_id: m.price.id,
      markup_percent: markup,
      ...(plan.viaTag !== undefined ? { via_tag: plan.viaTag } : {}),
    };
    return {
      ...markedUp(m.price, plan.markupPercent),
      priceId: m.price.id,
      pricedBy,
      pricedByJson: JSON.stringify(pricedBy),
    };
  });
}

const byRate = new WeakMap<Rate, ResolvedPrice>();
function fromRate(rate: Rate): ResolvedPrice {
  let resolved = byRate.get(rate);
  if (!resolved) {
    const pricedBy: PricedBy = { source: "consumer_rate", rate_id: rate.id };
    resolved = { ...rate, pricedBy, pricedByJson: JSON.stringify(pricedBy) };
    byRate.set(rate, resolved);
  }
  return resolved;
}

/** `own`: the consumer's own prices (a book with no markup), which override the plan's for the models they name. */
export function resolvePrice(
  plan: Plan | undefined,
  rates: readonly Rate[],
  model: string,
  at: Date,
  own?: Plan,
): ResolvedPrice | undefined {
  const overridden = own?.index.named(model, at);
  if (own && overridden) return fromPlan(own, overridden, "override");
  const named = plan?.index.named(model, at);
  if (plan && named) return fromPlan(plan, named);
  const rate = rateAt(rates, at);
  if (rate) return fromRate(rate);
  const fallback = plan?.index.default(at);
  return plan && fallback ? fromPlan(plan, fallback) : undefined;
}
