// Prepaid credit for the API and the commands: grants and voids, the balance of a consumer or a
// tag's pool, a consumer's view of the credit it draws on, its prepaid settings, the ledger. Every
// change is published on the metadata channel and refolds authorize's hold ledger at once.
import type { MetadataChanges } from "../authorize/metadata-changes.ts";
import { budgetPeriodAt, creditAllowance, fromMicro, ownerKey, PREPAID } from "../budgets/budget.ts";
import { consumersWithTag } from "../budgets/budget.repository.ts";
import type { HoldLedger } from "../budgets/hold-ledger.ts";
import { foldLedger } from "../budgets/ledger-fold.ts";
import type { Config } from "../config.ts";
import { resolveConsumer } from "../consumers/consumer.service.ts";
import type { PrismaClient } from "../db/client.ts";
import { prismaSql } from "../db/sql.ts";
import { localMidnight } from "../domain/billing-period.ts";
import { badRequest } from "../domain/errors.ts";
import type { Decimal } from "../domain/money.ts";
import { assertVisible, type Viewer } from "../domain/viewer.ts";
import type { Warnings } from "../lib/logger.ts";
import { walletOf, type CreditOwner } from "./credit-store.ts";
import {
  creditBalance,
  creditLedger,
  grantCredit,
  voidGrant,
  type GrantInput,
  type LedgerQuery,
} from "./credit.service.ts";

/** A grant as asked for: its dates are instants, or local days (midnight in the billing time zone). */
export type GrantRequest = Omit<GrantInput, "effectiveAt" | "expiresAt"> & { effectiveAt?: string; expiresAt?: string };

export class Credits {
  constructor(
    private readonly db: PrismaClient,
    private readonly holds: HoldLedger,
    private readonly config: Config,
    private readonly changes: MetadataChanges,
    private readonly log: Warnings,
  ) {}

  private instantOf(s: string): Date {
    return s.length === 10 ? localMidnight(s, this.config.billing.timeZone) : new Date(s);
  }

  /** Whose authorize decisions change, then the hold ledger refolded; with Redis away the next fold catches up. */
  private async changed(owner: CreditOwner): Promise<void> {
    const affected = owner.consumerId !== undefined ? [owner.consumerId] : await consumersWithTag(this.db, owner.tag);
    await this.changes.published(affected);
    const credit = creditAllowance(owner);
    const period = budgetPeriodAt(credit, new Date(), this.config.billing.timeZone);
    await foldLedger({ db: this.db, ledger: this.holds, config: this.config }, credit, period).catch((err: unknown) =>
      this.log.warn({ err }, "credit ledger not refolded; the next fold catches up"),
    );
  }

  /** A consumer by reference, or a tag's pool. */
  async ownerOf(ref: { consumer: string } | { tag: string }): Promise<CreditOwner> {
    return "tag" in ref ? { tag: ref.tag } : { consumerId: (await resolveConsumer(this.db, ref.consumer)).id };
  }

  async grant(owner: CreditOwner, g: GrantRequest, actor: string) {
    const effectiveAt = g.effectiveAt ? this.instantOf(g.effectiveAt) : new Date();
    const expiresAt = g.expiresAt ? this.instantOf(g.expiresAt) : null;
    if (expiresAt && expiresAt <= effectiveAt)
      throw badRequest(`expires_at: must be after effective_at (${effectiveAt.toISOString()})`, "expires_at");
    const id = await grantCredit(this.db, owner, { ...g, effectiveAt, expiresAt }, actor);
    await this.changed(owner);
    const balance = await this.balance(owner);
    return { grant: balance.grants.find((x) => x.id === id)!, balance };
  }

  async void(owner: CreditOwner, grantId: string, reason: string, actor: string) {
    const voided = await voidGrant(this.db, owner, grantId, reason, actor);
    await this.changed(owner);
    return { voided, balance: await this.balance(owner) };
  }

  balance(owner: CreditOwner) {
    return creditBalance(this.db, owner);
  }

  ledger(owner: CreditOwner, q: LedgerQuery) {
    return creditLedger(this.db, owner, q);
  }

  async tagConsumers(tag: string): Promise<number> {
    return (await consumersWithTag(this.db, tag)).length;
  }

  /** The credit a consumer draws on (its own, or its tag's pool), its settings and what authorize holds. */
  async consumerView(ref: string, viewer?: Viewer) {
    const c = await resolveConsumer(this.db, ref);
    assertVisible(viewer, c.id, ref);
    return this.viewOf(c);
  }

  private async viewOf(c: { id: string; prepaid: boolean; creditLowThresholds: Array<{ toFixed(): string }> }) {
    const wallet = await walletOf(prismaSql(this.db), c.id);
    // what authorize holds for calls in flight (null: not prepaid, or Redis away)
    const inFlight = c.prepaid
      ? await this.holds.read({ owner: ownerKey(wallet), periodKey: PREPAID }).catch(() => null)
      : null;
    return {
      consumerId: c.id,
      pool: wallet.tag,
      prepaid: c.prepaid,
      lowThresholds: c.creditLowThresholds,
      held: inFlight ? { amount: fromMicro(inFlight.heldMoney), calls: inFlight.holds } : null,
      balance: await this.balance(wallet),
    };
  }

  async setSettings(ref: string, prepaid: boolean, lowThresholds: Decimal[]) {
    const c = await resolveConsumer(this.db, ref);
    const thresholds = [...new Set(lowThresholds.map((d) => d.toFixed()))].sort((a, b) => Number(a) - Number(b));
    const updated = await this.db.consumer.update({
      where: { id: c.id },
      data: { prepaid, creditLowThresholds: thresholds },
    });
    await this.changed(await walletOf(prismaSql(this.db), c.id));
    return this.viewOf(updated);
  }

  /** A consumer's ledger; a consumer key reads only its own. */
  async consumerLedger(ref: string, q: LedgerQuery, viewer?: Viewer) {
    const c = await resolveConsumer(this.db, ref);
    assertVisible(viewer, c.id, ref);
    return { consumerId: c.id, page: await this.ledger({ consumerId: c.id }, q) };
  }
}
