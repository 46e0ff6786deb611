// The API shape of a budget version. Amounts are decimal strings; token limits too (they may pass
// what a JSON number holds exactly).
import type { Budgets } from "../../budgets/budgets.ts";

type Version = Awaited<ReturnType<Budgets["remove"]>>;

export const presentBudgetVersion = (v: Version) => ({
  version: v.version,
  period: v.period,
  amount: v.amount?.toFixed() ?? null,
  tokens: v.tokens?.toString() ?? null,
  thresholds: v.thresholds,
  cap_output: v.capOutput,
  removed: v.removed,
  actor: v.actor,
  changed_at: v.changedAt.toISOString(),
});
