// The meter's side of budgets: once a chunk's transaction has committed, the holds of the calls it
// metered are settled (found by event id, which is Kong's request id, or the hold id the gateway
// plugin named in the log) in every budget the consumer answers to, and each touched ledger is
// folded, so its committed figure is PostgreSQL's again and its threshold alerts go out. Redis
// being away never stops metering: holds then wait for their expiry and the next fold catches up.
import type { Db } from "../db/client.ts";
import type { Logger } from "../lib/logger.ts";
import { budgetPeriodAt, ownerKey, type Budget } from "./budget.ts";
import { currentBudgets } from "./budget.repository.ts";
import { foldLedger, refOf, type FoldDeps } from "./ledger-fold.ts";

export type StoredEvent = { id: string; consumerId: string | null; occurredAt: Date; holdId?: string };

export async function settleMetered(
  deps: FoldDeps & { db: Db; logger?: Logger; onRedisError?: () => void },
  events: StoredEvent[],
): Promise<void> {
  const consumerIds = [...new Set(events.flatMap((e) => (e.consumerId ? [e.consumerId] : [])))];
  if (consumerIds.length === 0) return;
  let budgets: Map<string, Budget[]>;
  try {
    budgets = await currentBudgets(deps.db, consumerIds);
  } catch (err) {
    deps.logger?.warn({ err }, "budgets not read; holds expire or the next fold catches up");
    return;
  }
  // a tag's budget is settled once with the events of all its consumers in the batch
  const byBudget = new Map<string, { budget: Budget; events: StoredEvent[] }>();
  for (const [consumerId, list] of budgets) {
    for (const budget of list) {
      const key = ownerKey(budget.owner);
      const entry = byBudget.get(key) ?? { budget, events: [] };
      entry.events.push(...events.filter((e) => e.consumerId === consumerId));
      byBudget.set(key, entry);
    }
  }
  for (const { budget, events: theirs } of byBudget.values()) {
    try {
      await settleBudget(deps, budget, theirs);
    } catch (err) {
      deps.onRedisError?.();
      deps.logger?.warn(
        { err, budget: ownerKey(budget.owner) },
        "budget holds not settled now; they expire or the next fold catches up",
      );
    }
  }
}

async function settleBudget(deps: FoldDeps, budget: Budget, events: StoredEvent[]): Promise<void> {
  const byPeriod = new Map<string, { period: ReturnType<typeof budgetPeriodAt>; ids: string[] }>();
  for (const e of events) {
    const period = budgetPeriodAt(budget, e.occurredAt, deps.config.billing.timeZone);
    const group = byPeriod.get(period.key) ?? { period, ids: [] };
    group.ids.push(e.id, ...(e.holdId && e.holdId !== e.id ? [e.holdId] : []));
    byPeriod.set(period.key, group);
  }
  for (const { period, ids } of byPeriod.values()) {
    await deps.ledger.settle(refOf(budget, period), ids);
    await foldLedger(deps, budget, period);
  }
}
