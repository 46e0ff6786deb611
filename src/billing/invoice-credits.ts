// Credit applied on an invoice: every burn and correction of the calls the invoice bills, and of
// calls a finalized invoice billed whose cost changed before this period ended (billed here as
// corrections), claimed by the invoice and shown as one negative line per grant. The invoice's
// total is then what is due. A claimed movement stays with its invoice on every re-draft; voiding
// with rebill releases it with the calls.
import type { Prisma } from "../db/client.ts";
import { Decimal } from "../domain/money.ts";
import type { LineDraft } from "./invoice-lines.ts";
import { oneAmount } from "./plan-charges.ts";

type Tx = Prisma.TransactionClient;

export type CreditLine = Omit<LineDraft, "position"> & { creditGrantId: string };

export async function creditLines(
  tx: Tx,
  invoiceId: string,
  consumerId: string,
  periodEndsAt: Date,
): Promise<CreditLine[]> {
  await tx.$executeRaw`
    UPDATE credit_ledger l SET invoice_id = ${invoiceId}::uuid
    FROM usage_events e LEFT JOIN invoices i ON i.id = e.invoice_id
    WHERE l.consumer_id = ${consumerId}::uuid AND l.invoice_id IS NULL AND l.kind IN ('burn', 'correction')
      AND e.id = l.event_id AND e.consumer_id = ${consumerId}::uuid
      AND (e.invoice_id = ${invoiceId}::uuid OR (i.status = 'finalized' AND l.recorded_at < ${periodEndsAt}))`;
  const rows = await tx.$queryRaw<{ grant_id: string; kind: string; applied: string }[]>`
    SELECT l.grant_id::text, g.kind::text, (-sum(l.amount))::text AS applied
    FROM credit_ledger l JOIN credit_grants g ON g.id = l.grant_id
    WHERE l.consumer_id = ${consumerId}::uuid AND l.invoice_id = ${invoiceId}::uuid
    GROUP BY l.grant_id, g.kind, g.priority, g.created_at HAVING sum(l.amount) <> 0 ORDER BY g.priority, g.created_at`;
  return rows.map((r) => {
    const amount = new Decimal(r.applied).negated();
    return { ...oneAmount(`${r.kind} credit`, null, "credit", amount), creditGrantId: r.grant_id };
  });
}
