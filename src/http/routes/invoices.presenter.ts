// The API shape of an invoice with its lines and status history. Amounts are decimal strings.
import type { InvoiceWithLines } from "../../billing/invoice.repository.ts";
import { periodJson } from "../../domain/billing-period.ts";
import { lineKind } from "../../billing/line-kind.ts";
import { Decimal } from "../../domain/money.ts";

export function presentInvoice(inv: InvoiceWithLines) {
  return {
    id: inv.id,
    consumer_id: inv.consumerId,
    username: inv.consumer.username,
    status: inv.status,
    number: inv.number,
    issuer: inv.issuerName ? { name: inv.issuerName, address: inv.issuerAddress?.split("\n") ?? [] } : null,
    period: periodJson(inv.period),
    // a draft of a closed period finalizes by itself then, unless an operator finalizes or voids it first
    finalizes_at:
      inv.status === "draft" && inv.period.status === "closed" ? inv.period.finalizeAfter.toISOString() : null,
    currency: inv.currency,
    subtotal: inv.subtotal.toFixed(),
    // prepaid credit on the invoice (its credit lines), already taken off the subtotal and total
    credits_applied: inv.lines
      .filter((l) => l.charge === "credit")
      .reduce((s, l) => s.minus(l.amount.toFixed()), new Decimal(0))
      .toFixed(),
    total: inv.total.toFixed(),
    rounding: inv.rounding,
    rounding_amount: new Decimal(inv.total.toFixed()).minus(inv.subtotal.toFixed()).toFixed(),
    issued_at: inv.issuedAt?.toISOString() ?? null,
    created_at: inv.createdAt.toISOString(),
    lines: inv.lines.map((l) => ({
      position: l.position,
      kind: lineKind(l),
      model: l.model,
      token_type: l.direction,
      quantity: Number(l.quantity),
      unit_price: l.unitPrice.toFixed(),
      amount: l.amount.toFixed(),
      adjusts_period_id: l.adjustsPeriodId,
      adjusts_event_ids: l.adjustsEventIds,
      reason: l.priceAdjustment?.reason ?? null,
      credit_grant_id: l.creditGrantId,
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
