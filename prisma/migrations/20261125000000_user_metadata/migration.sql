-- Metadata versions (who changed what, when), and on each usage event the limits it broke and
-- the metadata version it was metered under.

-- AlterTable
ALTER TABLE "consumers" ADD COLUMN     "metadata_version" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "usage_events" ADD COLUMN     "limit_flags" TEXT[] DEFAULT ARRAY[]::TEXT[],
ADD COLUMN     "metadata_version" INTEGER;

-- CreateTable
CREATE TABLE "consumer_metadata_versions" (
    "id" UUID NOT NULL,
    "consumer_id" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "changed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor" TEXT NOT NULL,
    "source" TEXT NOT NULL,
    "changes" JSONB NOT NULL,
    "snapshot" JSONB NOT NULL,

    CONSTRAINT "consumer_metadata_versions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "consumer_metadata_versions_consumer_id_version_key" ON "consumer_metadata_versions"("consumer_id", "version");

-- AddForeignKey
ALTER TABLE "consumer_metadata_versions" ADD CONSTRAINT "consumer_metadata_versions_consumer_id_fkey" FOREIGN KEY ("consumer_id") REFERENCES "consumers"("id") ON DELETE CASCADE ON UPDATE CASCADE;

