// A consumer's budget and what a call may cost against it. Pure: no I/O.
// The hold ledger in Redis counts money in integer micro-units of the billing currency, because
// Lua's numbers are doubles: exact up to 2^53 micro-units (about 9 billion currency units). Every
// conversion rounds towards holding more, never less, so rounding can deny early but never let
// committed spend pass the limit.
import { periodContaining, type Period, type PeriodKind } from "../domain/billing-period.ts";
import { Decimal } from "../domain/money.ts";
import { pricesOf, type RatePrices } from "../domain/pricing.ts";
import type { CapOutputSetting } from "../authorize/output-cap.ts";

/** A budget's period has the billing period's names: daily, weekly, monthly. */
export type BudgetPeriod = PeriodKind;

/**
 * A prepaid consumer's credit is held at authorize like a budget (src/credits/credit-hold.ts): one
 * ledger for as long as the consumer is prepaid, whose limit is 0 and whose committed figure is
 * the available balance negated, so a call fits when held + its cost <= the balance.
 */
export const PREPAID = "prepaid";

export const BUDGET_PERIODS = ["daily", "weekly", "monthly"] as const satisfies readonly BudgetPeriod[];
/** The names budgets had before they took the billing period's; still accepted, never answered. */
export const LEGACY_BUDGET_PERIODS = { day: "daily", week: "weekly", month: "monthly" } as const;

/** A stored period in either spelling (a row written by an earlier release reads as the same period). */
export function budgetPeriodOf(stored: string): BudgetPeriod | typeof PREPAID {
  return LEGACY_BUDGET_PERIODS[stored as keyof typeof LEGACY_BUDGET_PERIODS] ?? (stored as BudgetPeriod);
}

/** Whose budget: one consumer's, or the shared one of every consumer carrying a tag. */
export type BudgetOwner = { consumerId: string; tag?: undefined } | { tag: string; consumerId?: undefined };

export type Budget = {
  owner: BudgetOwner;
  version: number;
  period: BudgetPeriod | typeof PREPAID;
  /** Hard limit in the billing currency; null = no money limit. */
  amount: Decimal | null;
  /** Hard limit in tokens (all types together); null = no token limit. */
  tokens: bigint | null;
  /** Soft thresholds, percent of each limit, ascending. */
  thresholds: number[];
  /** Whether authorize lowers the upstream request's output cap to what the budget can pay for. */
  capOutput: CapOutputSetting;
};

const MICRO = new Decimal(1_000_000);
/** The largest money amount the ledger holds exactly (2^53 - 1 micro-units). */
export const MAX_BUDGET_AMOUNT = new Decimal(Number.MAX_SAFE_INTEGER).div(MICRO).floor();
export const MAX_BUDGET_TOKENS = BigInt(Number.MAX_SAFE_INTEGER);

/** Micro-units for what is held or spent: rounded up. */
export const microUp = (d: Decimal): string => d.times(MICRO).ceil().toFixed(0);
/** Micro-units for a limit: rounded down. */
export const microDown = (d: Decimal): string => d.times(MICRO).floor().toFixed(0);
export const fromMicro = (units: string | number): Decimal => new Decimal(units).div(MICRO);

/** The owner as one string (ledger keys, dedup keys, log lines). */
export const ownerKey = (o: BudgetOwner) => (o.consumerId !== undefined ? o.consumerId : `tag:${o.tag}`);

/** Whether the budget is a prepaid consumer's credit. */
export const isCredit = (b: Pick<Budget, "period">) => b.period === PREPAID;

/** The credit a prepaid consumer draws on (its own, or its tag's pool) as authorize holds it. */
export const creditAllowance = (owner: BudgetOwner): Budget => ({
  owner,
  version: 0,
  period: PREPAID,
  amount: new Decimal(0),
  tokens: null,
  thresholds: [],
  capOutput: "auto",
});

/** How long a credit ledger outlives its last use. */
const CREDIT_LEDGER_DAYS = 7;

export function budgetPeriodAt(budget: Pick<Budget, "period">, at: Date, timeZone: string): Period {
  if (budget.period === PREPAID) {
    // no calendar period: the key is constant and the ledger's keys live a week past each use
    return {
      kind: "daily",
      key: PREPAID,
      timeZone,
      startsAt: at,
      endsAt: new Date(at.getTime() + CREDIT_LEDGER_DAYS * 86_400_000),
    };
  }
  return periodContaining(at, budget.period, timeZone);
}

export type CallBound = {
  /** Input tokens counted at authorize, or an upper bound when counting ran out of time. */
  inputTokens: number;
  /** The request's max-tokens field, else the consumer's max_output_tokens, else the configured default. */
  outputTokens: number;
};

/**
 * The most a call can cost: its input at the dearest input-side price (plain, cached or cache
 * write) and its maximum output at the dearest output-side price (plain or reasoning).
 */
export function maxCostOf(call: CallBound, rate: RatePrices | undefined): Decimal {
  if (!rate) return new Decimal(0);
  const p = pricesOf(rate);
  const inputPrice = Decimal.max(p.input, p.cached_input, p.cache_write);
  const outputPrice = Decimal.max(p.output, p.reasoning);
  return inputPrice
    .times(call.inputTokens)
    .plus(outputPrice.times(call.outputTokens))
    .plus(rate.requestFee ?? 0);
}

/** What is left of a budget's limits for one call: null where the budget has no such limit. */
export type Room = { money: Decimal | null; tokens: bigint | null };

/**
 * The most output tokens (all completions together) a call with this input can take and still fit
 * the room; exact in decimals, so holding that much (rounded up to micro-units) still fits.
 */
export function outputThatFits(room: Room, call: Pick<CallBound, "inputTokens">, rate: RatePrices | undefined): number {
  let fit = Number.MAX_SAFE_INTEGER;
  if (room.tokens !== null) fit = Math.min(fit, Number(room.tokens) - call.inputTokens);
  if (room.money !== null && rate) {
    const p = pricesOf(rate);
    const outputPrice = Decimal.max(p.output, p.reasoning);
    const inputCost = maxCostOf({ inputTokens: call.inputTokens, outputTokens: 0 }, rate);
    const left = room.money.minus(inputCost);
    if (left.lt(0)) return 0;
    if (outputPrice.gt(0)) fit = Math.min(fit, left.div(outputPrice).floor().toNumber());
  }
  return Math.max(0, fit);
}

/** The thresholds (percent) that `spent` has reached of `limit`. */
export function thresholdsReached(thresholds: readonly number[], spent: Decimal, limit: Decimal): number[] {
  if (limit.lte(0)) return [...thresholds];
  return thresholds.filter((t) => spent.times(100).gte(limit.times(t)));
}
