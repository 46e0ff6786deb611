-- Dead letters as a record an operator can list, inspect and replay. Every message on the
-- dead-letter topic is recorded once (unique by its position there), and a meter dead letter written
-- twice for the same raw message (at-least-once) is recorded once (unique by its source).

-- CreateTable
CREATE TABLE "dead_letters" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "stage" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "reason" TEXT NOT NULL,
    "failed_at" TIMESTAMPTZ(3) NOT NULL,
    "recorded_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "source_topic" TEXT,
    "source_partition" INTEGER,
    "source_offset" BIGINT,
    "entry_index" INTEGER,
    "event_id" TEXT,
    "message_key" TEXT,
    "payload" BYTEA NOT NULL,
    "truncated" BOOLEAN NOT NULL DEFAULT false,
    "dlq_topic" TEXT NOT NULL,
    "dlq_partition" INTEGER NOT NULL,
    "dlq_offset" BIGINT NOT NULL,
    "replay_count" INTEGER NOT NULL DEFAULT 0,
    "last_replayed_at" TIMESTAMPTZ(3),

    CONSTRAINT "dead_letters_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "dead_letters_dlq_topic_dlq_partition_dlq_offset_key" ON "dead_letters"("dlq_topic", "dlq_partition", "dlq_offset");
CREATE UNIQUE INDEX "dead_letters_meter_source_key" ON "dead_letters"("source_topic", "source_partition", "source_offset") WHERE "stage" = 'meter';
CREATE INDEX "dead_letters_stage_failed_at_idx" ON "dead_letters"("stage", "failed_at");
CREATE INDEX "dead_letters_kind_failed_at_idx" ON "dead_letters"("kind", "failed_at");
