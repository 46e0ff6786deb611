// How the database commands (import, prices, credits) run: one Prisma client and one Redis
// connection for the command, the same services as the API (so a change reaches running API
// processes as it does from the API), and an AppError (a bad value, an unknown name) printed and
// answered with exit code 2.
import { once } from "node:events";
import { setTimeout } from "node:timers/promises";
import { MetadataChanges } from "../src/authorize/metadata-changes.ts";
import { HoldLedger } from "../src/budgets/hold-ledger.ts";
import type { loadConfig } from "../src/config.ts";
import { createPrisma } from "../src/db/client.ts";
import { AppError } from "../src/domain/errors.ts";
import { redisConnection } from "../src/jobs/queues.ts";
import { setupProblem } from "./setup-state.ts";

export type Db = ReturnType<typeof createPrisma>;
export type CommandParts = { db: Db; changes: MetadataChanges; holds: HoldLedger };

/** A command warns on stderr. */
export const warnings = { warn: (_: object, msg: string) => console.error(`warning: ${msg}`) };

/** `what`: named before an AppError's message (the file a command read, say). */
export async function withDatabase(
  config: ReturnType<typeof loadConfig>,
  work: (parts: CommandParts) => Promise<number>,
  what?: string,
): Promise<number> {
  const problem = await setupProblem(config.databaseUrl);
  if (problem) {
    console.error(problem);
    return 2;
  }
  const db = createPrisma(config.databaseUrl);
  const redis = redisConnection(config, "client");
  redis.on("error", () => {}); // what could not be told is reported by MetadataChanges
  // the client role fails commands until connected: give the connection a moment first
  await Promise.race([once(redis, "ready"), setTimeout(2000, undefined, { ref: false })]);
  try {
    const changes = new MetadataChanges(redis, config.redis.prefix, warnings);
    return await work({ db, changes, holds: new HoldLedger(redis, config.redis.prefix) });
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    console.error(what ? `${what}: ${err.message}` : err.message);
    return 2;
  } finally {
    redis.disconnect();
    await db.$disconnect();
  }
}
