-- A month of usage_events archived to a file and dropped (npm run events -- archive). While a month
-- is listed here, the meter does not store a call dated in it: the call is dead-lettered
-- (archived_month) and replays once the month is restored. 'archiving': its file is being written
-- and its table still holds the calls.
CREATE TABLE "archived_months" (
    "month" DATE NOT NULL,
    "status" TEXT NOT NULL,
    "calls" BIGINT,
    "file" TEXT,
    "sha256" TEXT,
    "actor" TEXT NOT NULL,
    "archived_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "archived_months_pkey" PRIMARY KEY ("month")
);
