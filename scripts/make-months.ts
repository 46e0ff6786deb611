// Run after the migrations (scripts/lib.sh): usage_events' months around today, and the months of
// calls waiting in its default partition, so a new or upgraded database starts with them.
import { loadConfig } from "../src/config.ts";
import { createPrisma } from "../src/db/client.ts";
import { makeMonthsAround, makeMonthsOfWaitingCalls } from "../src/usage/event-partitions.ts";

const db = createPrisma(loadConfig().databaseUrl);
try {
  const now = new Date();
  const made = [...(await makeMonthsOfWaitingCalls(db, now)), ...(await makeMonthsAround(db, now))];
  if (made.length) console.log(`usage_events months made: ${made.join(", ")}`);
} finally {
  await db.$disconnect();
}
