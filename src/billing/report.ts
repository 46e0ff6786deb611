// The billing report of one period across consumers, as JSON rows and as CSV.
import type { Db } from "../db/client.ts";

export type ReportRow = {
  invoice_id: string;
  consumer_id: string;
  username: string | null;
  custom_id: string | null;
  period: string;
  status: string;
  currency: string;
  input_tokens: number;
  output_tokens: number;
  subtotal: string;
  total: string;
  issued_at: string | null;
};

export const REPORT_COLUMNS: (keyof ReportRow)[] = [
  "invoice_id",
  "consumer_id",
  "username",
  "custom_id",
  "period",
  "status",
  "currency",
  "input_tokens",
  "output_tokens",
  "subtotal",
  "total",
  "issued_at",
];

export async function periodReport(db: Db, periodId: string): Promise<ReportRow[]> {
  const invoices = await db.invoice.findMany({
    where: { periodId },
    include: {
      consumer: { select: { username: true, customId: true } },
      period: { select: { key: true } },
      lines: { select: { direction: true, quantity: true, charge: true } },
    },
    orderBy: [{ consumer: { username: "asc" } }, { consumerId: "asc" }],
  });
  return invoices.map((inv) => {
    const tokens = (d: "input" | "output") =>
      Number(inv.lines.filter((l) => l.direction === d && !l.charge).reduce((s, l) => s + l.quantity, 0n));
    return {
      invoice_id: inv.id,
      consumer_id: inv.consumerId,
      username: inv.consumer.username,
      custom_id: inv.consumer.customId,
      period: inv.period.key,
      status: inv.status,
      currency: inv.currency,
      input_tokens: tokens("input"),
      output_tokens: tokens("output"),
      subtotal: inv.subtotal.toFixed(),
      total: inv.total.toFixed(),
      issued_at: inv.issuedAt?.toISOString() ?? null,
    };
  });
}
