// Invoice numbers: one gapless sequence per issuer. The number is taken inside the transaction
// that finalizes the invoice; the sequence row stays locked until it commits, so two finalizing
// invoices take turns and a rollback gives the number back.
import type { Db } from "../db/client.ts";
import type { BillingSettings } from "./period.service.ts";

export type Issued = { number: string; issuerName: string; issuerAddress: string };

export async function issueInvoiceNumber(tx: Db, s: BillingSettings): Promise<Issued> {
  const [row] = await tx.$queryRaw<{ last_number: bigint }[]>`
    INSERT INTO invoice_number_sequences (issuer, last_number) VALUES (${s.issuerName}, 1)
    ON CONFLICT (issuer) DO UPDATE SET last_number = invoice_number_sequences.last_number + 1
    RETURNING last_number`;
  return {
    number: `${s.invoicePrefix}${String(row!.last_number).padStart(6, "0")}`,
    issuerName: s.issuerName,
    issuerAddress: s.issuerAddress.join("\n"),
  };
}
