// Creates the database named in DATABASE_URL when it does not exist yet (migrations need it).
import pg from "pg";
import { loadConfig } from "../src/config.ts";

const url = new URL(loadConfig().databaseUrl);
const name = decodeURIComponent(url.pathname.slice(1));
const admin = new URL(url);
admin.pathname = "/postgres";
const client = new pg.Client({ connectionString: admin.toString() });
await client.connect();
try {
  const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
  if (!rowCount) {
    await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    console.log(`created database ${name}`);
  }
} finally {
  await client.end();
}
