-- Credit pools: a tag's grants, drawn on by every consumer carrying the tag that has no grant of
-- its own. A grant belongs to a consumer or to a tag, never both
ALTER TABLE "credit_grants" ALTER COLUMN "consumer_id" DROP NOT NULL;
ALTER TABLE "credit_grants" ADD COLUMN "tag" TEXT;
ALTER TABLE "credit_grants" ADD CONSTRAINT "credit_grants_one_owner" CHECK (("consumer_id" IS NULL) <> ("tag" IS NULL));
CREATE INDEX "credit_grants_tag_idx" ON "credit_grants"("tag");

-- a pool's grant, expiry and void belong to the tag, and a burn names the consumer whose call it paid
ALTER TABLE "credit_ledger" ALTER COLUMN "consumer_id" DROP NOT NULL;
ALTER TABLE "credit_ledger" ADD COLUMN "tag" TEXT;
CREATE INDEX "credit_ledger_tag_at_idx" ON "credit_ledger"("tag", "at");
