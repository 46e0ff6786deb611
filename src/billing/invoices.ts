// Invoices for the API: lists and one invoice (a consumer key sees only its own), finalizing a
// draft early or voiding an invoice by hand, closed periods by key and the period report.
import type { Config } from "../config.ts";
import { resolveConsumer } from "../consumers/consumer.service.ts";
import type { PrismaClient } from "../db/client.ts";
import { isPeriodKey } from "../domain/billing-period.ts";
import { notFound, validationFailed } from "../domain/errors.ts";
import { assertVisible, type Viewer } from "../domain/viewer.ts";
import { invoiceDocument } from "./documents/invoice-document.ts";
import { finalizeByHand, redraftByHand, voidInvoice, type HandChange } from "./invoice-lifecycle.ts";
import { findInvoice, invoiceCountsByStatus, listInvoices, type InvoiceStatus } from "./invoice.repository.ts";
import { periodReport } from "./report.ts";

export type InvoiceQuery = { consumer?: string; period?: string; status?: InvoiceStatus; limit: number };

export class Invoices {
  constructor(
    private readonly db: PrismaClient,
    private readonly config: Config,
  ) {}

  /** The closed period a key names; 400 if it starts no period, 404 if it is not closed yet. */
  async closedPeriod(key: string, field: string) {
    const s = this.config.billing;
    if (!isPeriodKey(key, s.period))
      throw validationFailed(`${field}: ${key} does not start a ${s.period} period`, field);
    const row = await this.db.billingPeriod.findUnique({
      where: { kind_key_timeZone: { kind: s.period, key, timeZone: s.timeZone } },
    });
    if (!row) throw notFound(`period ${key} has not been closed yet`);
    return row;
  }

  /**
   * Every invoice the viewer may see, newest first. A consumer key naming another consumer is
   * refused, not answered with the caller's own data.
   */
  async list(q: InvoiceQuery, viewer: Viewer | undefined) {
    let consumerId = viewer?.kind === "consumer" ? viewer.consumerId : undefined;
    if (q.consumer) {
      consumerId = (await resolveConsumer(this.db, q.consumer)).id;
      assertVisible(viewer, consumerId, q.consumer);
    }
    const period = q.period ? await this.closedPeriod(q.period, "query.period") : undefined;
    return listInvoices(this.db, { consumerId, periodId: period?.id, status: q.status }, q.limit);
  }

  async show(id: string, viewer: Viewer | undefined) {
    const inv = await findInvoice(this.db, id);
    if (!inv || (viewer?.kind === "consumer" && viewer.consumerId !== inv.consumerId))
      throw notFound(`invoice ${id} not found`);
    return inv;
  }

  /** Re-drafts the invoice from the usage, as a billing run would, then finalizes it. */
  async finalize(id: string, by: HandChange) {
    await finalizeByHand(this.db, id, by, this.config.billing);
    return this.show(id, undefined);
  }

  /** Re-drafts a draft from the usage and prices as they are now. */
  async redraft(id: string) {
    await redraftByHand(this.db, id, this.config.billing);
    return this.show(id, undefined);
  }

  /** The invoice's document: the same model for the HTML page and the PDF. */
  async document(id: string, viewer: Viewer | undefined) {
    return invoiceDocument(await this.show(id, viewer));
  }

  async void(id: string, by: HandChange & { reason: string; rebill: boolean }) {
    await voidInvoice(this.db, id, by);
    return this.show(id, undefined);
  }

  async report(periodKey: string) {
    const period = await this.closedPeriod(periodKey, "query.period");
    return { period, rows: await periodReport(this.db, period.id) };
  }

  countsByStatus(periodId?: string) {
    return invoiceCountsByStatus(this.db, periodId);
  }
}
