// What the API shows of a budget (a consumer's or a tag's): the period in force, committed spend (PostgreSQL, exact),
// what is held for calls in flight (the ledger; null while Redis is away) and what remains.
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import { periodJson } from "../domain/billing-period.ts";
import { Decimal } from "../domain/money.ts";
import { committedSpend, currentBudget } from "./budget.repository.ts";
import { budgetPeriodAt, fromMicro, type BudgetOwner } from "./budget.ts";
import type { HoldLedger } from "./hold-ledger.ts";
import { refOf } from "./ledger-fold.ts";

type Settings = {
  version: number;
  period: string;
  amount: { toFixed(): string } | null;
  tokens: bigint | null;
  thresholds: number[];
  capOutput: string;
};

/** A budget's settings as the API shows them (a version in its history, or the one in force). */
export const budgetSettingsJson = (b: Settings) => ({
  version: b.version,
  period: b.period,
  amount: b.amount?.toFixed() ?? null,
  tokens: b.tokens?.toString() ?? null,
  thresholds: b.thresholds,
  cap_output: b.capOutput,
});

const remainder = (limit: Decimal, used: Decimal) => Decimal.max(0, limit.minus(used));

export async function budgetStatus(db: Db, ledger: HoldLedger, config: Config, owner: BudgetOwner, now = new Date()) {
  const budget = await currentBudget(db, owner);
  if (!budget) return null;
  const period = budgetPeriodAt(budget, now, config.billing.timeZone);
  const committed = await committedSpend(db, owner, period);
  const held = await ledger.read(refOf(budget, period)).catch(() => undefined);
  const heldMoney = held ? fromMicro(held.heldMoney) : new Decimal(0);
  const heldTokens = new Decimal(held?.heldTokens ?? 0);
  const committedTokens = new Decimal(committed.tokens.toString());
  return {
    ...budgetSettingsJson(budget),
    currency: config.billing.currency,
    current_period: periodJson(period),
    committed: { amount: committed.money.toFixed(), tokens: committed.tokens.toString() },
    // null: Redis is away and what is in flight is not known
    held:
      held === undefined
        ? null
        : { amount: heldMoney.toFixed(), tokens: heldTokens.toFixed(0), calls: held?.holds ?? 0 },
    remaining: {
      amount: budget.amount === null ? null : remainder(budget.amount, committed.money.plus(heldMoney)).toFixed(),
      tokens:
        budget.tokens === null
          ? null
          : remainder(new Decimal(budget.tokens.toString()), committedTokens.plus(heldTokens)).toFixed(0),
    },
  };
}
