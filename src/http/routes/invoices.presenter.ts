// The API shape of an invoice with its lines and status history. Amounts are decimal strings.
import type { InvoiceWithLines } from "../../billing/invoice.repository.ts";
import { periodJson } from "../../domain/billing-period.ts";

type Line = InvoiceWithLines["lines"][number];

/**
 * usage: this period's calls; late_usage: calls of a finalized period that arrived late;
 * price_correction: a rate correction's difference; usage_correction: tokens a later report of an
 * already invoiced call added (or took away).
 */
const kindOf = (l: Line) =>
  l.priceAdjustment ? (l.priceAdjustment.kind === "tokens" ? "usage_correction" : "price_correction") : l.adjustsPeriodId ? "late_usage" : "usage";

export function presentInvoice(inv: InvoiceWithLines) {
  return {
    id: inv.id,
    consumer_id: inv.consumerId,
    username: inv.consumer.username,
    status: inv.status,
    period: periodJson(inv.period),
    currency: inv.currency,
    subtotal: inv.subtotal.toFixed(),
    total: inv.total.toFixed(),
    rounding: inv.rounding,
    issued_at: inv.issuedAt?.toISOString() ?? null,
    created_at: inv.createdAt.toISOString(),
    lines: inv.lines.map((l) => ({
      position: l.position,
      kind: kindOf(l),
      model: l.model,
      direction: l.direction,
      quantity: Number(l.quantity),
      unit_price: l.unitPrice.toFixed(),
      amount: l.amount.toFixed(),
      adjusts_period_id: l.adjustsPeriodId,
      adjusts_event_ids: l.adjustsEventIds,
      reason: l.priceAdjustment?.reason ?? null,
    })),
    history: inv.history.map((h) => ({
      from: h.fromStatus,
      to: h.toStatus,
      actor: h.actor,
      reason: h.reason,
      at: h.changedAt.toISOString(),
    })),
  };
}
