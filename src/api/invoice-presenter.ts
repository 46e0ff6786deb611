// The API shape of an invoice with its lines. Amounts are decimal strings.
type InvoiceWithLines = {
  id: string;
  consumerId: string;
  status: string;
  currency: string;
  subtotal: { toFixed(): string };
  total: { toFixed(): string };
  rounding: string;
  issuedAt: Date | null;
  createdAt: Date;
  consumer: { username: string | null };
  period: { key: string; kind: string; timeZone: string; startsAt: Date; endsAt: Date };
  lines: Array<{
    position: number;
    model: string;
    direction: string;
    quantity: bigint;
    unitPrice: { toFixed(): string };
    amount: { toFixed(): string };
    adjustsPeriodId: string | null;
    adjustsEventIds: string[];
  }>;
};

export function presentInvoice(inv: InvoiceWithLines) {
  return {
    id: inv.id,
    consumer_id: inv.consumerId,
    username: inv.consumer.username,
    status: inv.status,
    period: { key: inv.period.key, kind: inv.period.kind, time_zone: inv.period.timeZone, starts_at: inv.period.startsAt.toISOString(), ends_at: inv.period.endsAt.toISOString() },
    currency: inv.currency,
    subtotal: inv.subtotal.toFixed(),
    total: inv.total.toFixed(),
    rounding: inv.rounding,
    issued_at: inv.issuedAt?.toISOString() ?? null,
    created_at: inv.createdAt.toISOString(),
    lines: inv.lines.map((l) => ({
      position: l.position,
      model: l.model,
      direction: l.direction,
      quantity: Number(l.quantity),
      unit_price: l.unitPrice.toFixed(),
      amount: l.amount.toFixed(),
      adjusts_period_id: l.adjustsPeriodId,
      adjusts_event_ids: l.adjustsEventIds,
    })),
  };
}
