-- Prepaid credits: a consumer's grants, and the ledger of every movement of them (grant, burn by
-- a metered call, expiry, void, correction). A grant's remaining part always equals its ledger sum
CREATE TYPE "credit_grant_kind" AS ENUM ('purchase', 'promotion', 'adjustment');
CREATE TYPE "credit_movement_kind" AS ENUM ('grant', 'burn', 'expiry', 'void', 'correction');

-- prepaid: authorize admits a call only when its most cost fits the available credit
ALTER TABLE "consumers" ADD COLUMN "prepaid" BOOLEAN NOT NULL DEFAULT false;
-- balances (billing currency) below which credits.low is sent, once per grant and threshold
ALTER TABLE "consumers" ADD COLUMN "credit_low_thresholds" DECIMAL(24,12)[] NOT NULL DEFAULT '{}';

CREATE TABLE "credit_grants" (
  "id" UUID NOT NULL PRIMARY KEY,
  "consumer_id" UUID NOT NULL REFERENCES "consumers"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
  "amount" DECIMAL(24,12) NOT NULL CHECK ("amount" > 0),
  "priority" INTEGER NOT NULL CHECK ("priority" >= 0),
  "effective_at" TIMESTAMPTZ(3) NOT NULL,
  "expires_at" TIMESTAMPTZ(3) CHECK ("expires_at" IS NULL OR "expires_at" > "effective_at"),
  "kind" "credit_grant_kind" NOT NULL,
  "note" TEXT,
  "remaining" DECIMAL(24,12) NOT NULL CHECK ("remaining" >= 0),
  "expired" DECIMAL(24,12) NOT NULL DEFAULT 0 CHECK ("expired" >= 0),
  "voided_at" TIMESTAMPTZ(3),
  "void_reason" TEXT,
  "actor" TEXT NOT NULL,
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX "credit_grants_consumer_id_idx" ON "credit_grants"("consumer_id");

CREATE TABLE "credit_ledger" (
  "id" BIGSERIAL PRIMARY KEY,
  "consumer_id" UUID NOT NULL REFERENCES "consumers"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
  "grant_id" UUID NOT NULL REFERENCES "credit_grants"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
  "kind" "credit_movement_kind" NOT NULL,
  -- signed: positive adds to the balance
  "amount" DECIMAL(24,12) NOT NULL,
  "event_id" TEXT,
  -- when the movement takes effect (the call's time, the expiry instant), and when it was written
  "at" TIMESTAMPTZ(3) NOT NULL,
  "recorded_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "note" TEXT
);
CREATE INDEX "credit_ledger_consumer_id_at_idx" ON "credit_ledger"("consumer_id", "at");
CREATE INDEX "credit_ledger_grant_id_idx" ON "credit_ledger"("grant_id");
CREATE INDEX "credit_ledger_event_id_idx" ON "credit_ledger"("event_id") WHERE "event_id" IS NOT NULL;
