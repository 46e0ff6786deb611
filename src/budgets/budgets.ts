// Budgets for the API: set or change one (a new version each time), remove it, read its history
// and its current standing. A change is published on the metadata channel, since authorize holds
// calls against the budgets in force.
import type { MetadataChanges } from "../authorize/metadata-changes.ts";
import type { CapOutputSetting } from "../authorize/output-cap.ts";
import type { Config } from "../config.ts";
import { resolveConsumer } from "../consumers/consumer.service.ts";
import { creditSummary } from "../credits/credit-hold.ts";
import type { PrismaClient } from "../db/client.ts";
import { conflict, notFound } from "../domain/errors.ts";
import type { Decimal } from "../domain/money.ts";
import { assertVisible, type Viewer } from "../domain/viewer.ts";
import type { BudgetOwner, BudgetPeriod } from "./budget.ts";
import { budgetHistory, changeBudget, consumersWithTag } from "./budget.repository.ts";
import { budgetStatus } from "./budget-status.ts";
import type { HoldLedger } from "./hold-ledger.ts";

export type BudgetSettings = {
  period: BudgetPeriod;
  amount: Decimal | null;
  tokens: bigint | null;
  thresholds: number[];
  capOutput: CapOutputSetting;
};

const whose = (o: BudgetOwner) => (o.tag !== undefined ? "this tag" : "this consumer");

export class Budgets {
  constructor(
    private readonly db: PrismaClient,
    private readonly holds: HoldLedger,
    private readonly config: Config,
    private readonly changes: MetadataChanges,
  ) {}

  /** The consumers whose authorize decisions a change of this owner's budget affects. */
  private affected(o: BudgetOwner) {
    return o.consumerId !== undefined ? Promise.resolve([o.consumerId]) : consumersWithTag(this.db, o.tag);
  }

  async set(owner: BudgetOwner, s: BudgetSettings, actor: string) {
    const thresholds = [...s.thresholds].sort((x, y) => x - y);
    const version = (await changeBudget(this.db, owner, { ...s, thresholds }, actor))!;
    await this.changes.published(await this.affected(owner));
    return { version, status: await budgetStatus(this.db, this.holds, this.config, owner) };
  }

  /** Never accepted and then ignored: authorize answers an unconfigured consumer before any budget. */
  async setForConsumer(ref: string, s: BudgetSettings, actor: string) {
    const c = await resolveConsumer(this.db, ref);
    if (!c.configured) {
      throw conflict(
        `consumer: ${ref} is not configured, so authorize answers it by AUTHORIZE_UNCONFIGURED before any budget is checked; configure it first (PATCH /v1/consumers/:consumer)`,
        "consumer",
      );
    }
    return { consumerId: c.id, ...(await this.set({ consumerId: c.id }, s, actor)) };
  }

  async remove(owner: BudgetOwner, actor: string) {
    const version = await changeBudget(this.db, owner, { removed: true }, actor);
    if (!version) throw notFound(`${whose(owner)} has no budget`);
    await this.changes.published(await this.affected(owner));
    return version;
  }

  async removeForConsumer(ref: string, actor: string) {
    const c = await resolveConsumer(this.db, ref);
    return { consumerId: c.id, version: await this.remove({ consumerId: c.id }, actor) };
  }

  async status(owner: BudgetOwner) {
    const s = await budgetStatus(this.db, this.holds, this.config, owner);
    if (!s) throw notFound(`${whose(owner)} has no budget`);
    return s;
  }

  /** A consumer's standing with the credit it draws on; a consumer key sees only its own. */
  async consumerStatus(ref: string, viewer: Viewer | undefined) {
    const c = await resolveConsumer(this.db, ref);
    assertVisible(viewer, c.id, ref);
    return {
      consumerId: c.id,
      status: await this.status({ consumerId: c.id }),
      credit: await creditSummary(this.db, c.id, this.config.billing.currency),
    };
  }

  history(owner: BudgetOwner) {
    return budgetHistory(this.db, owner);
  }

  async consumerHistory(ref: string) {
    const c = await resolveConsumer(this.db, ref);
    return { consumerId: c.id, versions: await this.history({ consumerId: c.id }) };
  }

  async tagConsumers(tag: string): Promise<number> {
    return (await consumersWithTag(this.db, tag)).length;
  }
}
