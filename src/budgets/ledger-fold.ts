// Bringing a hold ledger's committed figures up to PostgreSQL's, and the threshold alerts that
// committed spend raises. Used by authorize (a ledger seen for the first time, or stale) and by
// the meter (after every chunk, for the consumers it metered).
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import { periodJson, type Period } from "../domain/billing-period.ts";
import { Decimal } from "../domain/money.ts";
import { raiseOnce, type AlertDeps } from "../alerts/alert.service.ts";
import { committedSpend, type Committed } from "./budget.repository.ts";
import { isCredit, microUp, ownerKey, thresholdsReached, type Budget, type BudgetOwner } from "./budget.ts";
import { alertOnBalance, creditStanding } from "../credits/credit-hold.ts";
import type { HoldLedger, LedgerRef } from "./hold-ledger.ts";

/**
 * Ledger keys outlive their period by two days, so late settles and folds still find them, and
 * live at least a day from now (a period already past, as a late event's, is not deleted at once).
 */
export const ledgerExpiry = (period: Period) =>
  new Date(Math.max(period.endsAt.getTime() + 2 * 86_400_000, Date.now() + 86_400_000));

export type FoldDeps = { db: Db; ledger: HoldLedger; config: Config; alerts?: AlertDeps };

export const refOf = (budget: Budget, period: Period): LedgerRef => ({
  owner: ownerKey(budget.owner),
  periodKey: period.key,
});

/** Who the budget is, as alerts and answers name it. */
export const ownerJson = (b: Budget) =>
  b.owner.consumerId !== undefined ? { consumer_id: b.owner.consumerId } : { tag: b.owner.tag };

export async function foldLedger(deps: FoldDeps, budget: Budget, period: Period): Promise<Committed> {
  const readAfter = await deps.ledger.clock(refOf(budget, period), ledgerExpiry(period));
  if (isCredit(budget)) return foldCredit(deps, budget.owner, refOf(budget, period), readAfter, ledgerExpiry(period));
  const committed = await committedSpend(deps.db, budget.owner, period);
  await deps.ledger.fold(
    refOf(budget, period),
    readAfter,
    { money: microUp(committed.money), tokens: committed.tokens.toString() },
    ledgerExpiry(period),
  );
  if (deps.alerts) await alertOnSpend(deps.alerts, budget, period, committed);
  return committed;
}

/**
 * A credit ledger (a consumer's or a pool's): committed is minus the available balance (see
 * src/credits/credit-hold.ts).
 */
async function foldCredit(
  deps: FoldDeps,
  owner: BudgetOwner,
  ref: LedgerRef,
  readAfter: number,
  expiresAt: Date,
): Promise<Committed> {
  const standing = await creditStanding(deps.db, owner);
  const committed = { money: standing.balance.negated(), tokens: 0n };
  await deps.ledger.fold(
    ref,
    readAfter,
    { money: microUp(committed.money), tokens: "0" },
    expiresAt,
    standing.validUntil,
  );
  if (deps.alerts) await alertOnBalance(deps.alerts, owner, standing);
  return committed;
}

const budgetKey = (b: Budget, p: Period) => `${ownerKey(b.owner)}:${p.key}:v${b.version}`;

/**
 * Soft thresholds reached, and the hard limit reached, by what is committed. Each once per budget version and period.
 */
async function alertOnSpend(alerts: AlertDeps, budget: Budget, period: Period, committed: Committed): Promise<void> {
  const measures = [
    { measure: "amount", limit: budget.amount, spent: committed.money, show: (d: Decimal) => d.toFixed() },
    {
      measure: "tokens",
      limit: budget.tokens === null ? null : new Decimal(budget.tokens.toString()),
      spent: new Decimal(committed.tokens.toString()),
      show: (d: Decimal) => d.toFixed(0),
    },
  ] as const;
  for (const m of measures) {
    if (m.limit === null) continue;
    const base = {
      ...ownerJson(budget),
      budget_version: budget.version,
      period: periodJson(period),
      measure: m.measure,
      limit: m.show(m.limit),
      committed: m.show(m.spent),
      currency: alerts.config.billing.currency,
    };
    for (const t of thresholdsReached(budget.thresholds, m.spent, m.limit)) {
      const dedupKey = `budget.threshold_crossed:${budgetKey(budget, period)}:${m.measure}:${t}`;
      await raiseOnce(alerts, {
        type: "budget.threshold_crossed",
        dedupKey,
        consumerId: budget.owner.consumerId,
        data: { ...base, threshold_percent: t },
      });
    }
    if (m.spent.gte(m.limit))
      await raiseExhausted(alerts, budget, period, { ...base, cause: "committed_spend_reached_limit" });
  }
}

/**
 * `budget.exhausted`: once per budget version and period, whichever notices first (a refused call or committed spend).
 */
export async function raiseExhausted(
  alerts: AlertDeps,
  budget: Budget,
  period: Period,
  data: Record<string, unknown>,
): Promise<void> {
  const dedupKey = `budget.exhausted:${budgetKey(budget, period)}`;
  await raiseOnce(alerts, { type: "budget.exhausted", dedupKey, consumerId: budget.owner.consumerId, data });
}
