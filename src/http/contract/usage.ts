// Usage over a range, TDL matrices and calendars, spend, and who a key is.
import { z } from "zod";
import { SLOT_NAMES } from "../../domain/tdl.ts";
import { Instant, LocalDate, Money, Period, TdlMatrix, TokenQuantities, UsageTotals } from "./common.ts";
import { BudgetStatus } from "./budgets.ts";
import { CreditSummary } from "./credits.ts";

const Range = {
  from: Instant,
  to: Instant,
  group_by: z.enum(["day", "model", "route"]),
  time_zone: z.string(),
  totals: UsageTotals,
  groups: z.array(UsageTotals.extend({ key: z.string() })),
};
export const ConsumerUsage = z.object({
  consumer_id: z.uuid(),
  ...Range,
  budget: BudgetStatus.nullable().meta({
    description: "The budget's current period, whatever the range; null: no budget.",
  }),
  credit: CreditSummary.nullable().meta({ description: "The prepaid balance now; null: never granted credit." }),
});
export type ConsumerUsage = z.infer<typeof ConsumerUsage>;
export const UnattributedUsage = z.object({ consumer_id: z.null(), ...Range });

export const TdlCell = z.object({
  slot: z.enum(SLOT_NAMES as [string, ...string[]]),
  level: z.number(),
  calls: z.number(),
  tokens: TokenQuantities,
  cost: Money,
});
export const ObservedMatrix = z.object({
  consumer_id: z.uuid(),
  date: LocalDate,
  time_zone: z.string(),
  tdl_matrix: TdlMatrix,
  cells: z.array(TdlCell).optional().meta({ description: "With ?cells=true: the day's cells." }),
});
export type ObservedMatrix = z.infer<typeof ObservedMatrix>;

export const CalendarDay = z.object({ date: LocalDate, calls: z.array(z.number()), over_limit: z.array(z.boolean()) });
export type CalendarDay = z.infer<typeof CalendarDay>;
export const TdlCalendar = z.object({
  consumer_id: z.uuid(),
  month: z.string(),
  time_zone: z.string(),
  days: z.array(CalendarDay),
});

export const Spend = z.object({
  period: Period,
  currency: z.string(),
  consumers: z.array(z.object({ consumer_id: z.uuid(), billable_calls: z.number(), cost: Money })),
});
export type Spend = z.infer<typeof Spend>;

const Billing = z.object({ time_zone: z.string(), currency: z.string(), period: z.string() });
const Tdl = z.object({
  level_bounds: z.array(z.number()).meta({
    description:
      "Input tokens at which load levels 1-9 begin: a call of n input tokens is at the number of bounds n reaches.",
  }),
});
export const Me = z.union([
  z.object({ kind: z.literal("admin"), billing: Billing, tdl: Tdl }),
  z.object({
    kind: z.literal("consumer"),
    consumer_id: z.uuid(),
    username: z.string().nullable(),
    billing: Billing,
    tdl: Tdl,
  }),
]);
export type Me = z.infer<typeof Me>;
