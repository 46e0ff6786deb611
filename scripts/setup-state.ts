// Whether the database a command is about to use has been set up (`npm run setup`, or `npm
// start`): reachable, and every migration in prisma/migrations applied. Commands check this in a
// few milliseconds instead of generating and migrating on every call, and say what to run when
// it is not so, without a stack trace and without the URL's password.
import { readdir } from "node:fs/promises";
import pg from "pg";
import { addressOf } from "../src/lib/address.ts";

const MIGRATIONS = new URL("../prisma/migrations/", import.meta.url);

/** Null when set up; otherwise what is wrong and what to run. */
export async function setupProblem(databaseUrl: string): Promise<string | null> {
  const expected = (await readdir(MIGRATIONS, { withFileTypes: true }))
    .filter((d) => d.isDirectory())
    .map((d) => d.name);
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
  } catch (err) {
    const code = (err as { code?: string }).code ?? (err as Error).message;
    if (code === "3D000")
      return `the database at ${addressOf(databaseUrl)} does not exist: run \`npm run setup\` (npm start does it too).`;
    return `cannot reach PostgreSQL at ${addressOf(databaseUrl)} (${code}); is it running, and is DATABASE_URL right? Then run \`npm run setup\`.`;
  }
  try {
    const { rows } = await client.query<{ name: string }>(
      "SELECT migration_name AS name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL",
    );
    const applied = new Set(rows.map((r) => r.name));
    const pending = expected.filter((m) => !applied.has(m));
    if (pending.length === 0) return null;
    return `the database at ${addressOf(databaseUrl)} lacks ${pending.length} migration(s) (${pending.at(-1)} the latest): run \`npm run setup\` (npm start does it too).`;
  } catch (err) {
    if ((err as { code?: string }).code === "42P01")
      return `the database at ${addressOf(databaseUrl)} is not set up: run \`npm run setup\` (npm start does it too).`;
    throw err;
  } finally {
    await client.end();
  }
}
