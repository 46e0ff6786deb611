// Rates and the cost of a call. A rate prices input and output tokens and, optionally, each of
// the other token types; a type without its own price is priced as its parent (see token-types.ts).
import { Decimal } from "./money.ts";
import { PARENT, quantitiesOf, TOKEN_TYPES, type TokenSplit, type TokenType } from "./token-types.ts";

export type Rate = {
  id: string;
  effectiveFrom: Date;
  inputCostPerToken: Decimal;
  outputCostPerToken: Decimal;
  cachedInputCostPerToken?: Decimal | null;
  cacheWriteCostPerToken?: Decimal | null;
  reasoningCostPerToken?: Decimal | null;
  /** A fee per billable call beside its tokens (book prices only). */
  requestFee?: Decimal | null;
};

export type RatePrices = Pick<
  Rate,
  | "inputCostPerToken"
  | "outputCostPerToken"
  | "cachedInputCostPerToken"
  | "cacheWriteCostPerToken"
  | "reasoningCostPerToken"
  | "requestFee"
>;

/** The rate in force at `at`: the latest one that took effect at or before it. */
export function rateAt(history: readonly Rate[], at: Date): Rate | undefined {
  let best: Rate | undefined;
  for (const r of history) {
    if (r.effectiveFrom.getTime() <= at.getTime() && (!best || r.effectiveFrom > best.effectiveFrom)) best = r;
  }
  return best;
}

/** The price of every token type under a rate, each unset type at its parent's price. */
export function pricesOf(rate: RatePrices): Record<TokenType, Decimal> {
  const own: Record<TokenType, Decimal | null | undefined> = {
    input: rate.inputCostPerToken,
    output: rate.outputCostPerToken,
    cached_input: rate.cachedInputCostPerToken,
    cache_write: rate.cacheWriteCostPerToken,
    reasoning: rate.reasoningCostPerToken,
  };
  return Object.fromEntries(TOKEN_TYPES.map((t) => [t, new Decimal(own[t] ?? own[PARENT[t]]!)])) as Record<
    TokenType,
    Decimal
  >;
}

/**
 * Exact cost of a call: each token type's quantity times its price, plus any fee per request; no rounding (invoices
 * round once).
 */
export function costOf(tokens: TokenSplit, rate: RatePrices): Decimal {
  const prices = pricesOf(rate);
  const quantities = quantitiesOf(tokens);
  return TOKEN_TYPES.reduce((sum, t) => sum.plus(prices[t].times(quantities[t])), new Decimal(rate.requestFee ?? 0));
}
