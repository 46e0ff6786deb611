-- Core metering: consumers, rate history, usage events, TDL cells, per-consumer totals.
-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "token_source" AS ENUM ('counted', 'provider', 'none');

-- CreateTable
CREATE TABLE "consumers" (
    "id" UUID NOT NULL,
    "kong_id" TEXT,
    "username" TEXT,
    "custom_id" TEXT,
    "external_id" TEXT,
    "provider_name" TEXT,
    "tags" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "tdl_matrix" JSONB NOT NULL,
    "capabilities" INTEGER[] DEFAULT ARRAY[1, 1, 1, 1, 1]::INTEGER[],
    "max_input_tokens" INTEGER,
    "max_output_tokens" INTEGER,
    "configured" BOOLEAN NOT NULL DEFAULT true,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "consumers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "consumer_rates" (
    "id" UUID NOT NULL,
    "consumer_id" UUID NOT NULL,
    "effective_from" TIMESTAMPTZ(3) NOT NULL,
    "input_cost_per_token" DECIMAL(24,12) NOT NULL,
    "output_cost_per_token" DECIMAL(24,12) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "consumer_rates_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "usage_events" (
    "id" TEXT NOT NULL,
    "consumer_id" UUID,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL,
    "received_at" TIMESTAMPTZ(3) NOT NULL,
    "metered_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "route_id" TEXT,
    "route_name" TEXT,
    "service_id" TEXT,
    "service_name" TEXT,
    "model" TEXT NOT NULL,
    "provider" TEXT,
    "status" INTEGER NOT NULL,
    "upstream_status" TEXT,
    "billable" BOOLEAN NOT NULL,
    "input_tokens" INTEGER NOT NULL,
    "output_tokens" INTEGER NOT NULL,
    "input_source" "token_source" NOT NULL,
    "output_source" "token_source" NOT NULL,
    "provider_input_tokens" INTEGER,
    "provider_output_tokens" INTEGER,
    "encoding" TEXT,
    "rate_id" UUID,
    "input_cost_per_token" DECIMAL(24,12),
    "output_cost_per_token" DECIMAL(24,12),
    "cost" DECIMAL(30,12) NOT NULL,
    "capability" INTEGER,
    "local_date" DATE NOT NULL,
    "slot" INTEGER NOT NULL,
    "level" INTEGER NOT NULL,

    CONSTRAINT "usage_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "tdl_cells" (
    "consumer_id" UUID NOT NULL,
    "local_date" DATE NOT NULL,
    "slot" INTEGER NOT NULL,
    "level" INTEGER NOT NULL,
    "calls" INTEGER NOT NULL DEFAULT 0,
    "input_tokens" BIGINT NOT NULL DEFAULT 0,
    "output_tokens" BIGINT NOT NULL DEFAULT 0,
    "cost" DECIMAL(30,12) NOT NULL DEFAULT 0,

    CONSTRAINT "tdl_cells_pkey" PRIMARY KEY ("consumer_id","local_date","slot","level")
);

-- CreateTable
CREATE TABLE "consumer_totals" (
    "consumer_id" UUID NOT NULL,
    "calls" BIGINT NOT NULL DEFAULT 0,
    "billable_calls" BIGINT NOT NULL DEFAULT 0,
    "input_tokens" BIGINT NOT NULL DEFAULT 0,
    "output_tokens" BIGINT NOT NULL DEFAULT 0,
    "cost" DECIMAL(30,12) NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "consumer_totals_pkey" PRIMARY KEY ("consumer_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "consumers_kong_id_key" ON "consumers"("kong_id");

-- CreateIndex
CREATE UNIQUE INDEX "consumers_username_key" ON "consumers"("username");

-- CreateIndex
CREATE UNIQUE INDEX "consumers_custom_id_key" ON "consumers"("custom_id");

-- CreateIndex
CREATE UNIQUE INDEX "consumer_rates_consumer_id_effective_from_key" ON "consumer_rates"("consumer_id", "effective_from");

-- CreateIndex
CREATE INDEX "usage_events_consumer_id_occurred_at_idx" ON "usage_events"("consumer_id", "occurred_at");

-- CreateIndex
CREATE INDEX "usage_events_occurred_at_idx" ON "usage_events"("occurred_at");

-- AddForeignKey
ALTER TABLE "consumer_rates" ADD CONSTRAINT "consumer_rates_consumer_id_fkey" FOREIGN KEY ("consumer_id") REFERENCES "consumers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "usage_events" ADD CONSTRAINT "usage_events_consumer_id_fkey" FOREIGN KEY ("consumer_id") REFERENCES "consumers"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "usage_events" ADD CONSTRAINT "usage_events_rate_id_fkey" FOREIGN KEY ("rate_id") REFERENCES "consumer_rates"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "tdl_cells" ADD CONSTRAINT "tdl_cells_consumer_id_fkey" FOREIGN KEY ("consumer_id") REFERENCES "consumers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "consumer_totals" ADD CONSTRAINT "consumer_totals_consumer_id_fkey" FOREIGN KEY ("consumer_id") REFERENCES "consumers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

