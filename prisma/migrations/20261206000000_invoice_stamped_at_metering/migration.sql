-- A call of a period not closed yet is stamped, when the meter stores it, with the id its consumer's
-- invoice for that period will have (computed from consumer and period, see
-- src/billing/period-invoices.ts). The invoice row does not exist until the period closes, so the
-- column can no longer reference invoices. Drafting then reads its calls instead of claiming each.
ALTER TABLE "usage_events" DROP CONSTRAINT IF EXISTS "usage_events_invoice_id_fkey";

-- Which consumers have stamped calls in which period: what a billing run visits, without reading calls.
CREATE TABLE "consumer_periods" (
  "kind" "period_kind" NOT NULL,
  "time_zone" TEXT NOT NULL,
  "key" TEXT NOT NULL,
  "consumer_id" UUID NOT NULL,
  CONSTRAINT "consumer_periods_pkey" PRIMARY KEY ("kind", "time_zone", "key", "consumer_id")
);

-- Calls no invoice has taken (stored after their period closed, or before stamping): few, and
-- what a billing run looks for first.
CREATE INDEX "usage_events_unclaimed_idx" ON "usage_events"("occurred_at", "consumer_id")
  WHERE billable AND invoice_id IS NULL AND consumer_id IS NOT NULL;
