-- Token types beyond input and output, figures from every source that reported a call, and
-- corrections of finalized usage when a later report changes a call's billed tokens.

ALTER TYPE "token_source" ADD VALUE 'kong_event';
ALTER TYPE "line_direction" ADD VALUE 'cached_input';
ALTER TYPE "line_direction" ADD VALUE 'cache_write';
ALTER TYPE "line_direction" ADD VALUE 'reasoning';

-- Optional prices per token type: NULL means the parent's price (input or output)
ALTER TABLE "consumer_rates"
  ADD COLUMN "cached_input_cost_per_token" DECIMAL(24,12),
  ADD COLUMN "cache_write_cost_per_token" DECIMAL(24,12),
  ADD COLUMN "reasoning_cost_per_token" DECIMAL(24,12);

-- input_tokens and output_tokens stay the totals: the three new counts are parts of them
ALTER TABLE "usage_events"
  ADD COLUMN "cached_input_tokens" INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN "cache_write_tokens" INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN "reasoning_tokens" INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN "cached_input_cost_per_token" DECIMAL(24,12),
  ADD COLUMN "cache_write_cost_per_token" DECIMAL(24,12),
  ADD COLUMN "reasoning_cost_per_token" DECIMAL(24,12),
  ADD COLUMN "counted_input_tokens" INTEGER,
  ADD COLUMN "counted_output_tokens" INTEGER,
  ADD COLUMN "figures" JSONB NOT NULL DEFAULT '{}',
  -- every call metered so far was reported by http-log, new rows name their reports
  ADD COLUMN "reported_by" TEXT[] NOT NULL DEFAULT ARRAY['http-log']::TEXT[];
ALTER TABLE "usage_events" ALTER COLUMN "reported_by" SET DEFAULT ARRAY[]::TEXT[];

ALTER TABLE "tdl_cells"
  ADD COLUMN "cached_input_tokens" BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN "cache_write_tokens" BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN "reasoning_tokens" BIGINT NOT NULL DEFAULT 0;

ALTER TABLE "consumer_totals"
  ADD COLUMN "cached_input_tokens" BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN "cache_write_tokens" BIGINT NOT NULL DEFAULT 0,
  ADD COLUMN "reasoning_tokens" BIGINT NOT NULL DEFAULT 0;

-- 'price': a rate correction (difference of unit prices). 'tokens': a later report changed the
-- tokens of a call a finalized invoice billed (quantity is the difference, from_unit_price 0).
ALTER TABLE "price_adjustments" ADD COLUMN "kind" TEXT NOT NULL DEFAULT 'price';
ALTER TABLE "price_adjustments" ALTER COLUMN "rate_id" DROP NOT NULL;
