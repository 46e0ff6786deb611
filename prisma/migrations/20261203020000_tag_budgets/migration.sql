-- A budget belongs to one consumer or to one tag (every consumer carrying the tag, together).
ALTER TABLE "budget_versions" ALTER COLUMN "consumer_id" DROP NOT NULL;
ALTER TABLE "budget_versions" ADD COLUMN "tag" TEXT;
ALTER TABLE "budget_versions" ADD CONSTRAINT "budget_versions_owner_check" CHECK (("consumer_id" IS NULL) <> ("tag" IS NULL));
CREATE UNIQUE INDEX "budget_versions_tag_version_key" ON "budget_versions"("tag", "version");
