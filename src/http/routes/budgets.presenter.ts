// The API shape of a budget version. Amounts are decimal strings; token limits too (they may pass
// what a JSON number holds exactly).
import type { Budgets } from "../../budgets/budgets.ts";
import { budgetSettingsJson } from "../../budgets/budget-status.ts";

type Version = Awaited<ReturnType<Budgets["remove"]>>;

export const presentBudgetVersion = (v: Version) => ({
  ...budgetSettingsJson(v),
  removed: v.removed,
  actor: v.actor,
  changed_at: v.changedAt.toISOString(),
});
