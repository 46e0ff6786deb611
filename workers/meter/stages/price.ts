// Prices a call with the consumer's rate in force at the call's time and stamps that rate on it.
import { ZERO, type Decimal } from "../../../src/domain/money.ts";
import { costOf, rateAt, type Rate } from "../../../src/domain/pricing.ts";
import type { TokenSplit } from "../../../src/domain/token-types.ts";

export type Priced = { cost: Decimal; rate?: Rate };

/**
 * Non-billable calls and unattributed usage cost nothing. A call older than the consumer's first
 * rate stays unpriced (no rate stamped) rather than priced with a rate that was not in force.
 */
export function price(rates: Map<string, Rate[]>, consumerId: string | null, at: Date, tokens: TokenSplit, billable: boolean): Priced {
  if (!consumerId) return { cost: ZERO };
  const rate = rateAt(rates.get(consumerId) ?? [], at);
  if (!rate) return { cost: ZERO };
  return { cost: billable ? costOf(tokens, rate) : ZERO, rate };
}
