-- A review window: a closed period's drafts finalize at finalize_after, fixed when the period
-- closes (the later of its end plus grace and the moment it closed, plus the review window), so
-- a restart never finalizes early. Periods closed before this migration get the defaults' window
-- (one day of grace, three of review).
ALTER TABLE "billing_periods" ADD COLUMN "finalize_after" TIMESTAMPTZ(3);
UPDATE "billing_periods"
  SET "finalize_after" = GREATEST("ends_at" + interval '1 day', "closed_at") + interval '3 days';
ALTER TABLE "billing_periods" ALTER COLUMN "finalize_after" SET NOT NULL;
CREATE INDEX "billing_periods_status_finalize_after_idx" ON "billing_periods"("status", "finalize_after");

-- Invoice numbers: gapless per issuer, taken in the finalizing transaction (a rollback gives the
-- number back). The issuer's name and address are kept as they were when the invoice was issued.
CREATE TABLE "invoice_number_sequences" (
    "issuer" TEXT NOT NULL,
    "last_number" BIGINT NOT NULL,
    CONSTRAINT "invoice_number_sequences_pkey" PRIMARY KEY ("issuer")
);
ALTER TABLE "invoices" ADD COLUMN "number" TEXT;
ALTER TABLE "invoices" ADD COLUMN "issuer_name" TEXT;
ALTER TABLE "invoices" ADD COLUMN "issuer_address" TEXT;
CREATE UNIQUE INDEX "invoices_issuer_name_number_key" ON "invoices"("issuer_name", "number");
