// Creates the database named in DATABASE_URL when it does not exist yet (migrations need it).
import { loadConfig } from "../src/config.ts";
import { databaseNameOf, quoteIdent, withMaintenanceClient } from "../src/db/admin.ts";

const url = loadConfig().databaseUrl;
const name = databaseNameOf(url);
await withMaintenanceClient(url, async (client) => {
  const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
  if (!rowCount) {
    await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
    console.log(`created database ${name}`);
  }
});
