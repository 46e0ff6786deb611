-- Credit on invoices: a credit movement is claimed by the invoice that bills its call, and a
-- credit line names the grant that paid
ALTER TABLE "credit_ledger" ADD COLUMN "invoice_id" UUID REFERENCES "invoices"("id") ON DELETE SET NULL ON UPDATE CASCADE;
CREATE INDEX "credit_ledger_consumer_id_invoice_id_idx" ON "credit_ledger"("consumer_id", "invoice_id");
ALTER TABLE "invoice_lines" ADD COLUMN "credit_grant_id" UUID REFERENCES "credit_grants"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
