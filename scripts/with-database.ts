// How the database commands (prices, credits) run: one Prisma client for the command, and an
// AppError (a bad value, an unknown name) printed and answered with exit code 2.
import type { loadConfig } from "../src/config.ts";
import { createPrisma } from "../src/db/client.ts";
import { AppError } from "../src/domain/errors.ts";

export type Db = ReturnType<typeof createPrisma>;

export async function withDatabase(
  config: ReturnType<typeof loadConfig>,
  work: (db: Db) => Promise<number>,
): Promise<number> {
  const db = createPrisma(config.databaseUrl);
  try {
    return await work(db);
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    console.error(err.message);
    return 2;
  } finally {
    await db.$disconnect();
  }
}
