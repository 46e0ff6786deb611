-- What the meter noticed about a call's figures (see src/domain/anomalies.ts): a provider count
-- no call can have, a payload whose counting ran past its time budget.

-- AlterTable
ALTER TABLE "usage_events" ADD COLUMN     "anomalies" TEXT[] DEFAULT ARRAY[]::TEXT[];
