import { Decimal } from "./money.ts";

export type Rate = {
  id: string;
  effectiveFrom: Date;
  inputCostPerToken: Decimal;
  outputCostPerToken: Decimal;
};

/** The rate in force at `at`: the latest one that took effect at or before it. */
export function rateAt(history: readonly Rate[], at: Date): Rate | undefined {
  let best: Rate | undefined;
  for (const r of history) {
    if (r.effectiveFrom.getTime() <= at.getTime() && (!best || r.effectiveFrom > best.effectiveFrom)) best = r;
  }
  return best;
}

/** Exact cost of a call: tokens times per-token prices, no rounding (invoices round once). */
export function costOf(tokens: { input: number; output: number }, rate: Pick<Rate, "inputCostPerToken" | "outputCostPerToken">): Decimal {
  return new Decimal(rate.inputCostPerToken)
    .times(tokens.input)
    .plus(new Decimal(rate.outputCostPerToken).times(tokens.output));
}
