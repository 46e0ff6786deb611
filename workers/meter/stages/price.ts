// Prices a call with what its consumer's plan and rates say for the call's model at the call's
// time, and stamps that price and how it was found on the event (src/domain/consumer-pricing.ts).
import { ZERO, type Decimal } from "../../../src/domain/money.ts";
import { resolvePrice, type Plan, type ResolvedPrice } from "../../../src/domain/consumer-pricing.ts";
import { costOf, type Rate } from "../../../src/domain/pricing.ts";
import type { TokenSplit } from "../../../src/domain/token-types.ts";

export type Pricing = { plans: Map<string, Plan>; own: Map<string, Plan>; rates: Map<string, Rate[]> };
/** unpriced: a billable call of a known consumer that no price covers; it carries no cost until one does. */
export type Priced = { cost: Decimal; rate?: ResolvedPrice; unpriced: boolean };

/** Non-billable calls and unattributed usage cost nothing and are never unpriced. */
export function price(
  pricing: Pricing,
  consumerId: string | null,
  model: string,
  at: Date,
  tokens: TokenSplit,
  billable: boolean,
): Priced {
  if (!consumerId) return { cost: ZERO, unpriced: false };
  const rate = resolvePrice(
    pricing.plans.get(consumerId),
    pricing.rates.get(consumerId) ?? [],
    model,
    at,
    pricing.own.get(consumerId),
  );
  if (!rate) return { cost: ZERO, unpriced: billable };
  return { cost: billable ? costOf(tokens, rate) : ZERO, rate, unpriced: false };
}
