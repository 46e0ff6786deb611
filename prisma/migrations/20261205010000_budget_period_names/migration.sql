-- Budgets take the billing period's names (daily, weekly, monthly). The check keeps accepting the
-- older day, week and month, which a release from before may still write while a new one rolls
-- out, and the code reads either spelling as the same period.
ALTER TABLE "budget_versions" DROP CONSTRAINT "budget_versions_period_check";
UPDATE "budget_versions" SET "period" = CASE "period"
  WHEN 'day' THEN 'daily' WHEN 'week' THEN 'weekly' WHEN 'month' THEN 'monthly' ELSE "period" END
WHERE "period" IN ('day', 'week', 'month');
ALTER TABLE "budget_versions" ADD CONSTRAINT "budget_versions_period_check"
  CHECK ("period" IN ('daily', 'weekly', 'monthly', 'day', 'week', 'month'));
