// An operator's hand on an invoice: finalize a draft early (it is re-drafted from the usage first,
// as a billing run would), or void an invoice with a reason. Every change is kept in its history.
import type { PrismaClient } from "../db/client.ts";
import { conflict, notFound } from "../domain/errors.ts";
import { draftInvoice } from "./invoice.service.ts";
import { lockInvoice, recordStatusChange } from "./invoice.repository.ts";
import type { BillingSettings } from "./period.service.ts";

export type HandChange = { actor: string; reason?: string; allowUnpriced?: boolean };

export async function finalizeByHand(
  db: PrismaClient,
  id: string,
  by: HandChange,
  settings: BillingSettings,
  now = new Date(),
): Promise<void> {
  const inv = await db.invoice.findUnique({
    where: { id },
    select: { consumerId: true, periodId: true, status: true },
  });
  if (!inv) throw notFound(`invoice ${id} not found`);
  if (inv.status !== "draft")
    throw conflict(`status: the invoice is ${inv.status}; only a draft can be finalized`, "status");
  const r = await draftInvoice(db, {
    consumerId: inv.consumerId,
    periodId: inv.periodId,
    settings,
    now,
    finalize: true,
    actor: by.actor,
    reason: by.reason,
    allowUnpriced: by.allowUnpriced,
  });
  if (r.outcome === "held_unpriced") {
    const { calls, models } = r.unpriced!;
    throw conflict(
      `status: ${calls} billable calls on this invoice have no price (models: ${models.join(", ")}); add their prices, or finalize with allow_unpriced: true to bill them at nothing`,
      "status",
    );
  }
  if (r.outcome === "empty")
    throw conflict("status: no usage is left on this draft; it was removed instead of finalized", "status");
  if (r.outcome !== "finalized") throw conflict("status: the invoice was finalized or voided meanwhile", "status");
}

/** Re-drafts a draft from the usage and prices as they are now (after an operator priced its calls, say). */
export async function redraftByHand(db: PrismaClient, id: string, settings: BillingSettings): Promise<void> {
  const inv = await db.invoice.findUnique({
    where: { id },
    select: { consumerId: true, periodId: true, status: true },
  });
  if (!inv) throw notFound(`invoice ${id} not found`);
  if (inv.status !== "draft")
    throw conflict(`status: the invoice is ${inv.status}; only a draft can be re-drafted`, "status");
  const r = await draftInvoice(db, {
    consumerId: inv.consumerId,
    periodId: inv.periodId,
    settings,
    now: new Date(),
    finalize: false,
  });
  if (r.outcome === "empty") throw conflict("status: no usage is left on this draft; it was removed", "status");
  if (r.outcome !== "drafted") throw conflict("status: the invoice was finalized or voided meanwhile", "status");
}

/**
 * Voids a draft or finalized invoice. With `rebill`, its usage and corrections are released and
 * billed again on the consumer's next invoice (as late usage); without, they stay unbilled.
 */
export async function voidInvoice(
  db: PrismaClient,
  id: string,
  by: HandChange & { reason: string; rebill: boolean },
): Promise<void> {
  await db.$transaction(async (tx) => {
    const inv = await lockInvoice(tx, id);
    if (!inv) throw notFound(`invoice ${id} not found`);
    if (inv.status === "void") throw conflict("status: the invoice is already void", "status");
    await tx.invoice.update({ where: { id }, data: { status: "void" } });
    await recordStatusChange(tx, id, { from: inv.status, to: "void", actor: by.actor, reason: by.reason });
    if (by.rebill) {
      // naming the consumer lets the (consumer_id, invoice_id, occurred_at) index find the events
      await tx.usageEvent.updateMany({
        where: { consumerId: inv.consumer_id, invoiceId: id },
        data: { invoiceId: null },
      });
      await tx.priceAdjustment.updateMany({ where: { invoiceId: id }, data: { invoiceId: null } });
      await tx.creditLedgerEntry.updateMany({
        where: { consumerId: inv.consumer_id, invoiceId: id },
        data: { invoiceId: null },
      });
    }
  });
}
