-- usage_events.price_id without a foreign key: every call of a popular model names the same price
-- row, and concurrent meters checking that key lock the one row over and over (PostgreSQL then
-- shares the lock through multixacts), which cost the meter 15 % with two processes. Book prices
-- are never deleted, so the reference stays whole without the check.
ALTER TABLE "usage_events" DROP CONSTRAINT "usage_events_price_id_fkey";
