-- Whether authorize caps the upstream request's output to what the budget can pay for
ALTER TABLE "budget_versions" ADD COLUMN "cap_output" TEXT NOT NULL DEFAULT 'auto';
