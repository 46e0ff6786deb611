// Drops the database named in DATABASE_URL (and the test databases cloned from it), so the test
// run proves the migrations on a fresh database.
import { databaseNameOf, quoteIdent, withMaintenanceClient } from "../src/db/admin.ts";

const url = process.env.DATABASE_URL ?? "";
const name = databaseNameOf(url);
if (!name.includes("test")) throw new Error(`refusing to drop ${name}: not a test database`);
await withMaintenanceClient(url, async (client) => {
  const { rows } = await client.query<{ datname: string }>(
    "SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE 'tm_test_%'",
    [name],
  );
  for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`);
});
