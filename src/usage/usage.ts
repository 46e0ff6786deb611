// Usage for the API: a consumer's usage over a range with its budget and credit standing, usage no
// consumer could be found for, the observed TDL matrix of a day and of a month, and every
// consumer's spend in the current period. A consumer key sees only its own.
import { budgetStatus } from "../budgets/budget-status.ts";
import type { HoldLedger } from "../budgets/hold-ledger.ts";
import type { Config } from "../config.ts";
import { resolveConsumer } from "../consumers/consumer.service.ts";
import { creditSummary } from "../credits/credit-hold.ts";
import type { Db } from "../db/client.ts";
import { localDateOf, periodContaining } from "../domain/billing-period.ts";
import type { TdlMatrix } from "../domain/tdl.ts";
import { assertVisible, type Viewer } from "../domain/viewer.ts";
import { spendByConsumer, tdlCalendar } from "./calendar.service.ts";
import { observedCells, observedMatrix, usageOf, type GroupBy } from "./usage.service.ts";

export type Range = { from: Date; to: Date; groupBy: GroupBy };

export class Usage {
  constructor(
    private readonly db: Db,
    private readonly holds: HoldLedger,
    private readonly config: Config,
  ) {}

  private async visible(ref: string, viewer: Viewer | undefined) {
    const c = await resolveConsumer(this.db, ref);
    assertVisible(viewer, c.id, ref);
    return c;
  }

  /** With the budget's current period whatever the range (null: none) and the credit now (null: never granted). */
  async ofConsumer(ref: string, r: Range, viewer: Viewer | undefined) {
    const c = await this.visible(ref, viewer);
    return {
      consumerId: c.id,
      usage: await usageOf(this.db, c.id, r.from, r.to, r.groupBy, this.config.billing.timeZone),
      budget: await budgetStatus(this.db, this.holds, this.config, { consumerId: c.id }),
      credit: await creditSummary(this.db, c.id, this.config.billing.currency),
    };
  }

  unattributed(r: Range) {
    return usageOf(this.db, null, r.from, r.to, r.groupBy, this.config.billing.timeZone);
  }

  /** The observed matrix of a local day, and with `cells` each cell's tokens and cost. */
  async matrix(ref: string, date: string, cells: boolean, viewer: Viewer | undefined) {
    const c = await this.visible(ref, viewer);
    return {
      consumerId: c.id,
      matrix: await observedMatrix(this.db, c.id, date),
      cells: cells ? await observedCells(this.db, c.id, date) : undefined,
    };
  }

  /** What Kong's caller sees beside its limits (the caller is already known). */
  observedMatrix(consumerId: string, date: string) {
    return observedMatrix(this.db, consumerId, date);
  }

  async calendar(ref: string, month: string, viewer: Viewer | undefined) {
    const c = await this.visible(ref, viewer);
    return { consumerId: c.id, days: await tdlCalendar(this.db, c.id, month, c.tdlMatrix as TdlMatrix) };
  }

  /** Every consumer's billable spend in the billing period in force now. */
  async spend() {
    const { period, timeZone } = this.config.billing;
    const current = periodContaining(new Date(), period, timeZone);
    return {
      period: current,
      consumers: await spendByConsumer(this.db, current.key, localDateOf(current.endsAt, timeZone)),
    };
  }
}
