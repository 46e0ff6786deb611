-- A usage event keeps what is its own and refers to what many calls share.

-- How calls were priced (book, version, entry, match, markup, or the consumer's rate): a few
-- distinct records shared by millions of calls. The id is the md5 of the record's jsonb text, so
-- every writer names the same record the same way without asking.
CREATE TABLE "pricing_records" (
    "id" UUID NOT NULL,
    "priced_by" JSONB NOT NULL,
    CONSTRAINT "pricing_records_pkey" PRIMARY KEY ("id")
);
INSERT INTO "pricing_records" ("id", "priced_by")
SELECT DISTINCT ON (md5("priced_by"::text)) md5("priced_by"::text)::uuid, "priced_by"
FROM "usage_events" WHERE "priced_by" IS NOT NULL;
ALTER TABLE "usage_events" ADD COLUMN "priced_by_id" UUID;

-- figures keeps only what the counted and provider columns do not already hold: their input and
-- output are dropped from it where they equal the columns, and an empty result is NULL.
ALTER TABLE "usage_events" ALTER COLUMN "figures" DROP NOT NULL, ALTER COLUMN "figures" DROP DEFAULT;
UPDATE "usage_events" e SET
    "priced_by_id" = CASE WHEN e."priced_by" IS NOT NULL THEN md5(e."priced_by"::text)::uuid END,
    "figures" = (
        SELECT jsonb_object_agg(s.key, s.rest)
        FROM (
            SELECT f.key, f.value - array_remove(ARRAY[
                CASE WHEN f.value->'input' = to_jsonb(CASE f.key WHEN 'counted' THEN e."counted_input_tokens" WHEN 'provider' THEN e."provider_input_tokens" END) THEN 'input' END,
                CASE WHEN f.value->'output' = to_jsonb(CASE f.key WHEN 'counted' THEN e."counted_output_tokens" WHEN 'provider' THEN e."provider_output_tokens" END) THEN 'output' END
            ], NULL) AS rest
            FROM jsonb_each(e."figures") f
        ) s
        WHERE s.rest <> '{}'::jsonb
    );
ALTER TABLE "usage_events" DROP COLUMN "priced_by";

-- An invoice's calls are found by its id alone: the index holds stamped calls only, and btree
-- deduplication keeps one entry per invoice and page. Calls no invoice has taken have their own index.
DROP INDEX "usage_events_consumer_id_invoice_id_occurred_at_idx";
CREATE INDEX "usage_events_invoice_id_idx" ON "usage_events"("invoice_id") WHERE "invoice_id" IS NOT NULL;

-- Calls are stored close to time order, so a block range index answers time ranges over the whole
-- table at a fraction of a btree's size.
DROP INDEX "usage_events_occurred_at_idx";
CREATE INDEX "usage_events_occurred_at_idx" ON "usage_events" USING BRIN ("occurred_at");
