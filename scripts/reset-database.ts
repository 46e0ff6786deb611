// Drops the database named in DATABASE_URL (and the test databases cloned from it), so the test
// run proves the migrations on a fresh database.
import pg from "pg";

const url = new URL(process.env.DATABASE_URL ?? "");
const name = decodeURIComponent(url.pathname.slice(1));
if (!name.includes("test")) throw new Error(`refusing to drop ${name}: not a test database`);
const admin = new URL(url);
admin.pathname = "/postgres";
const client = new pg.Client({ connectionString: admin.toString() });
await client.connect();
try {
  const { rows } = await client.query<{ datname: string }>(
    "SELECT datname FROM pg_database WHERE datname = $1 OR datname LIKE 'tm_test_%'",
    [name],
  );
  for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
} finally {
  await client.end();
}
