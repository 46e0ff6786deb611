-- Billing: periods, invoices with lines (adjustment lines for late events), consumer API keys;
-- usage events remember the invoice that billed them.
-- CreateEnum
CREATE TYPE "period_kind" AS ENUM ('monthly', 'weekly', 'daily');

-- CreateEnum
CREATE TYPE "period_status" AS ENUM ('closed', 'finalized');

-- CreateEnum
CREATE TYPE "invoice_status" AS ENUM ('draft', 'finalized', 'void');

-- CreateEnum
CREATE TYPE "line_direction" AS ENUM ('input', 'output');

-- AlterTable
ALTER TABLE "usage_events" ADD COLUMN     "invoice_id" UUID;

-- CreateTable
CREATE TABLE "billing_periods" (
    "id" UUID NOT NULL,
    "kind" "period_kind" NOT NULL,
    "key" TEXT NOT NULL,
    "time_zone" TEXT NOT NULL,
    "starts_at" TIMESTAMPTZ(3) NOT NULL,
    "ends_at" TIMESTAMPTZ(3) NOT NULL,
    "status" "period_status" NOT NULL DEFAULT 'closed',
    "closed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "finalized_at" TIMESTAMPTZ(3),

    CONSTRAINT "billing_periods_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "invoices" (
    "id" UUID NOT NULL,
    "consumer_id" UUID NOT NULL,
    "period_id" UUID NOT NULL,
    "status" "invoice_status" NOT NULL DEFAULT 'draft',
    "currency" TEXT NOT NULL,
    "subtotal" DECIMAL(30,12) NOT NULL,
    "total" DECIMAL(30,12) NOT NULL,
    "rounding" TEXT NOT NULL,
    "issued_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "invoices_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "invoice_lines" (
    "id" UUID NOT NULL,
    "invoice_id" UUID NOT NULL,
    "position" INTEGER NOT NULL,
    "model" TEXT NOT NULL,
    "direction" "line_direction" NOT NULL,
    "quantity" BIGINT NOT NULL,
    "unit_price" DECIMAL(24,12) NOT NULL,
    "amount" DECIMAL(30,12) NOT NULL,
    "adjusts_period_id" UUID,
    "adjusts_event_ids" TEXT[] DEFAULT ARRAY[]::TEXT[],

    CONSTRAINT "invoice_lines_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "consumer_api_keys" (
    "id" UUID NOT NULL,
    "consumer_id" UUID NOT NULL,
    "prefix" TEXT NOT NULL,
    "hash" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "consumer_api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "billing_periods_kind_key_time_zone_key" ON "billing_periods"("kind", "key", "time_zone");

-- CreateIndex
CREATE INDEX "invoices_period_id_status_idx" ON "invoices"("period_id", "status");

-- CreateIndex
CREATE UNIQUE INDEX "invoices_consumer_id_period_id_key" ON "invoices"("consumer_id", "period_id");

-- CreateIndex
CREATE UNIQUE INDEX "invoice_lines_invoice_id_position_key" ON "invoice_lines"("invoice_id", "position");

-- CreateIndex
CREATE UNIQUE INDEX "consumer_api_keys_hash_key" ON "consumer_api_keys"("hash");

-- CreateIndex
CREATE INDEX "usage_events_consumer_id_invoice_id_occurred_at_idx" ON "usage_events"("consumer_id", "invoice_id", "occurred_at");

-- AddForeignKey
ALTER TABLE "usage_events" ADD CONSTRAINT "usage_events_invoice_id_fkey" FOREIGN KEY ("invoice_id") REFERENCES "invoices"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "invoices" ADD CONSTRAINT "invoices_consumer_id_fkey" FOREIGN KEY ("consumer_id") REFERENCES "consumers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "invoices" ADD CONSTRAINT "invoices_period_id_fkey" FOREIGN KEY ("period_id") REFERENCES "billing_periods"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "invoice_lines" ADD CONSTRAINT "invoice_lines_invoice_id_fkey" FOREIGN KEY ("invoice_id") REFERENCES "invoices"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "invoice_lines" ADD CONSTRAINT "invoice_lines_adjusts_period_id_fkey" FOREIGN KEY ("adjusts_period_id") REFERENCES "billing_periods"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "consumer_api_keys" ADD CONSTRAINT "consumer_api_keys_consumer_id_fkey" FOREIGN KEY ("consumer_id") REFERENCES "consumers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

