-- Invoice status history (finalize and void by hand, with a reason) and rate corrections billed as adjustment lines.

-- CreateTable
CREATE TABLE "invoice_status_changes" (
    "id" UUID NOT NULL,
    "invoice_id" UUID NOT NULL,
    "from_status" "invoice_status",
    "to_status" "invoice_status" NOT NULL,
    "actor" TEXT NOT NULL,
    "reason" TEXT,
    "changed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "invoice_status_changes_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "invoice_status_changes_invoice_id_changed_at_idx" ON "invoice_status_changes"("invoice_id", "changed_at");
ALTER TABLE "invoice_status_changes" ADD CONSTRAINT "invoice_status_changes_invoice_id_fkey" FOREIGN KEY ("invoice_id") REFERENCES "invoices"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- CreateTable
CREATE TABLE "price_adjustments" (
    "id" UUID NOT NULL,
    "consumer_id" UUID NOT NULL,
    "rate_id" UUID NOT NULL,
    "reason" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "adjusts_invoice_id" UUID NOT NULL,
    "adjusts_period_id" UUID NOT NULL,
    "model" TEXT NOT NULL,
    "direction" "line_direction" NOT NULL,
    "quantity" BIGINT NOT NULL,
    "from_unit_price" DECIMAL(24,12) NOT NULL,
    "to_unit_price" DECIMAL(24,12) NOT NULL,
    "event_ids" TEXT[],
    "invoice_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "price_adjustments_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "price_adjustments_consumer_id_invoice_id_idx" ON "price_adjustments"("consumer_id", "invoice_id");
ALTER TABLE "price_adjustments" ADD CONSTRAINT "price_adjustments_invoice_id_fkey" FOREIGN KEY ("invoice_id") REFERENCES "invoices"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AlterTable
ALTER TABLE "invoice_lines" ADD COLUMN "price_adjustment_id" UUID;
ALTER TABLE "invoice_lines" ADD CONSTRAINT "invoice_lines_price_adjustment_id_fkey" FOREIGN KEY ("price_adjustment_id") REFERENCES "price_adjustments"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
