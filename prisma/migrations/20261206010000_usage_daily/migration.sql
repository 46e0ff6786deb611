-- Usage per consumer, local day, model and route, kept by every writer of usage_events in its
-- transaction (src/usage/daily-rollup.ts): the usage API reads whole days here instead of every call.
-- consumer_id is null for calls no consumer could be attributed to.
CREATE TABLE "usage_daily" (
  "consumer_id" UUID,
  "local_date" DATE NOT NULL,
  "model" TEXT NOT NULL,
  "route" TEXT NOT NULL,
  "calls" BIGINT NOT NULL DEFAULT 0,
  "billable_calls" BIGINT NOT NULL DEFAULT 0,
  "input_tokens" BIGINT NOT NULL DEFAULT 0,
  "output_tokens" BIGINT NOT NULL DEFAULT 0,
  "cost" NUMERIC NOT NULL DEFAULT 0,
  "q_input" BIGINT NOT NULL DEFAULT 0,
  "c_input" NUMERIC NOT NULL DEFAULT 0,
  "q_cached_input" BIGINT NOT NULL DEFAULT 0,
  "c_cached_input" NUMERIC NOT NULL DEFAULT 0,
  "q_cache_write" BIGINT NOT NULL DEFAULT 0,
  "c_cache_write" NUMERIC NOT NULL DEFAULT 0,
  "q_output" BIGINT NOT NULL DEFAULT 0,
  "c_output" NUMERIC NOT NULL DEFAULT 0,
  "q_reasoning" BIGINT NOT NULL DEFAULT 0,
  "c_reasoning" NUMERIC NOT NULL DEFAULT 0,
  "flag_capability_not_granted" BIGINT NOT NULL DEFAULT 0,
  "flag_input_tokens_over_limit" BIGINT NOT NULL DEFAULT 0,
  "flag_output_tokens_over_limit" BIGINT NOT NULL DEFAULT 0,
  "flag_tdl_limit_exceeded" BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX "usage_daily_key" ON "usage_daily"("consumer_id", "local_date", "model", "route") NULLS NOT DISTINCT;

-- the days already metered
INSERT INTO "usage_daily" ("consumer_id", "local_date", "model", "route", "calls", "billable_calls", "input_tokens", "output_tokens", "cost", "q_input", "c_input", "q_cached_input", "c_cached_input", "q_cache_write", "c_cache_write", "q_output", "c_output", "q_reasoning", "c_reasoning", "flag_capability_not_granted", "flag_input_tokens_over_limit", "flag_output_tokens_over_limit", "flag_tdl_limit_exceeded")
SELECT consumer_id, local_date, model, coalesce(route_name, route_id, '(no route)'),
  count(*),
  count(*) FILTER (WHERE billable),
  coalesce(sum(input_tokens) FILTER (WHERE billable), 0),
  coalesce(sum(output_tokens) FILTER (WHERE billable), 0),
  coalesce(sum(cost), 0),
  coalesce(sum(input_tokens - cached_input_tokens - cache_write_tokens) FILTER (WHERE billable), 0),
  coalesce(sum((input_tokens - cached_input_tokens - cache_write_tokens) * coalesce(input_cost_per_token, 0)) FILTER (WHERE billable), 0),
  coalesce(sum(cached_input_tokens) FILTER (WHERE billable), 0),
  coalesce(sum((cached_input_tokens) * coalesce(coalesce(cached_input_cost_per_token, input_cost_per_token), 0)) FILTER (WHERE billable), 0),
  coalesce(sum(cache_write_tokens) FILTER (WHERE billable), 0),
  coalesce(sum((cache_write_tokens) * coalesce(coalesce(cache_write_cost_per_token, input_cost_per_token), 0)) FILTER (WHERE billable), 0),
  coalesce(sum(output_tokens - reasoning_tokens) FILTER (WHERE billable), 0),
  coalesce(sum((output_tokens - reasoning_tokens) * coalesce(output_cost_per_token, 0)) FILTER (WHERE billable), 0),
  coalesce(sum(reasoning_tokens) FILTER (WHERE billable), 0),
  coalesce(sum((reasoning_tokens) * coalesce(coalesce(reasoning_cost_per_token, output_cost_per_token), 0)) FILTER (WHERE billable), 0),
  count(*) FILTER (WHERE 'capability_not_granted' = ANY(limit_flags)),
  count(*) FILTER (WHERE 'input_tokens_over_limit' = ANY(limit_flags)),
  count(*) FILTER (WHERE 'output_tokens_over_limit' = ANY(limit_flags)),
  count(*) FILTER (WHERE 'tdl_limit_exceeded' = ANY(limit_flags))
FROM usage_events GROUP BY 1, 2, 3, 4;
