-- Price books: prices per model and token type with effective dates, shared by consumers as plans.

CREATE TABLE "price_books" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "version" INTEGER NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "price_books_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "price_books_name_key" ON "price_books"("name");

CREATE TABLE "price_book_prices" (
    "id" UUID NOT NULL,
    "book_id" UUID NOT NULL,
    "model" TEXT NOT NULL,
    "effective_from" TIMESTAMPTZ(3) NOT NULL,
    "input_cost_per_token" DECIMAL(24,12) NOT NULL,
    "output_cost_per_token" DECIMAL(24,12) NOT NULL,
    "cached_input_cost_per_token" DECIMAL(24,12),
    "cache_write_cost_per_token" DECIMAL(24,12),
    "reasoning_cost_per_token" DECIMAL(24,12),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "price_book_prices_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "price_book_prices_book_id_model_effective_from_key" ON "price_book_prices"("book_id", "model", "effective_from");
ALTER TABLE "price_book_prices" ADD CONSTRAINT "price_book_prices_book_id_fkey" FOREIGN KEY ("book_id") REFERENCES "price_books"("id") ON DELETE CASCADE ON UPDATE CASCADE;

ALTER TABLE "consumers" ADD COLUMN "plan_id" UUID;
ALTER TABLE "consumers" ADD COLUMN "plan_markup_percent" DECIMAL(9,4);
ALTER TABLE "consumers" ADD CONSTRAINT "consumers_plan_id_fkey" FOREIGN KEY ("plan_id") REFERENCES "price_books"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
CREATE INDEX "consumers_plan_id_idx" ON "consumers"("plan_id");

ALTER TABLE "usage_events" ADD COLUMN "price_id" UUID;
ALTER TABLE "usage_events" ADD COLUMN "priced_by" JSONB;
ALTER TABLE "usage_events" ADD CONSTRAINT "usage_events_price_id_fkey" FOREIGN KEY ("price_id") REFERENCES "price_book_prices"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
-- the unpriced list and the finalize check read billable calls flagged unpriced
CREATE INDEX "usage_events_unpriced_idx" ON "usage_events"("consumer_id", "occurred_at") WHERE billable AND 'unpriced' = ANY(anomalies);
