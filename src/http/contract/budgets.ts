// Budgets of a consumer or a tag: the version in force, its current period and what remains.
import { z } from "zod";
import { Instant, Money, Period } from "./common.ts";
import { CreditSummary } from "./credits.ts";

const Settings = {
  period: z.string(),
  amount: Money.nullable(),
  tokens: z.string().nullable().meta({ description: "A token count as a decimal string." }),
  thresholds: z.array(z.number()),
  cap_output: z.string(),
};

export const BudgetStatus = z.object({
  version: z.number(),
  ...Settings,
  currency: z.string(),
  current_period: Period,
  committed: z.object({ amount: Money, tokens: z.string() }),
  held: z
    .object({ amount: Money, tokens: z.string(), calls: z.number() })
    .nullable()
    .meta({ description: "Held for calls in flight; null while Redis is away." }),
  remaining: z.object({ amount: Money.nullable(), tokens: z.string().nullable() }),
});
export type BudgetStatus = z.infer<typeof BudgetStatus>;

export const BudgetVersion = z.object({
  version: z.number(),
  ...Settings,
  removed: z.boolean(),
  actor: z.string(),
  changed_at: Instant,
});

const Owner = { consumer_id: z.uuid() };
const Tag = { tag: z.string() };
export const ConsumerBudgetSet = BudgetVersion.extend({ ...Owner, status: BudgetStatus.nullable() });
export const TagBudgetSet = BudgetVersion.extend({ ...Tag, status: BudgetStatus.nullable() });
export const ConsumerBudgetRemoved = BudgetVersion.extend(Owner);
export const TagBudgetRemoved = BudgetVersion.extend(Tag);
export const ConsumerBudget = BudgetStatus.extend({ ...Owner, credit: CreditSummary.nullable() });
export type ConsumerBudget = z.infer<typeof ConsumerBudget>;
export const TagBudget = BudgetStatus.extend({ ...Tag, consumers: z.number() });
export const ConsumerBudgetVersions = z.object({ ...Owner, versions: z.array(BudgetVersion) });
export const TagBudgetVersions = z.object({ ...Tag, versions: z.array(BudgetVersion) });
