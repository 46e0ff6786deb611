-- usage_events partitioned by month of occurred_at (UTC), so that a month leaves as one table when
-- it is archived (npm run events -- archive) and an index holds only its month. The primary key has
-- to carry the partition key: (id, occurred_at). A call is still stored once by id: the meter
-- serializes writers of one id with a transaction lock (workers/meter/stages/call-locks.ts) and
-- looks a stored call up by id in every month.
--
-- Months are made by the application (src/usage/event-partitions.ts: on start, and ahead by the
-- billing tick). Until its month exists, a call waits in usage_events_default, and moves when the
-- month is made. Here every stored call goes to the default partition first, and the first start
-- moves them into their months.
ALTER TABLE "usage_events" RENAME TO "usage_events_unpartitioned";
CREATE TABLE "usage_events" (LIKE "usage_events_unpartitioned" INCLUDING DEFAULTS) PARTITION BY RANGE ("occurred_at");
CREATE TABLE "usage_events_default" PARTITION OF "usage_events" DEFAULT;
INSERT INTO "usage_events" SELECT * FROM "usage_events_unpartitioned";
DROP TABLE "usage_events_unpartitioned";

ALTER TABLE "usage_events" ADD CONSTRAINT "usage_events_pkey" PRIMARY KEY ("id", "occurred_at");
ALTER TABLE "usage_events" ADD CONSTRAINT "usage_events_consumer_id_fkey" FOREIGN KEY ("consumer_id") REFERENCES "consumers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "usage_events" ADD CONSTRAINT "usage_events_rate_id_fkey" FOREIGN KEY ("rate_id") REFERENCES "consumer_rates"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
CREATE INDEX "usage_events_consumer_id_occurred_at_idx" ON "usage_events"("consumer_id", "occurred_at");
CREATE INDEX "usage_events_occurred_at_idx" ON "usage_events" USING BRIN ("occurred_at");
CREATE INDEX "usage_events_invoice_id_idx" ON "usage_events"("invoice_id") WHERE "invoice_id" IS NOT NULL;
CREATE INDEX "usage_events_unclaimed_idx" ON "usage_events"("occurred_at", "consumer_id") WHERE billable AND invoice_id IS NULL AND consumer_id IS NOT NULL;
CREATE INDEX "usage_events_unpriced_idx" ON "usage_events"("consumer_id", "occurred_at") WHERE billable AND 'unpriced' = ANY(anomalies);
