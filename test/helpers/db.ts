// Each test file gets its own database, cloned from the template that scripts/test.sh migrated.
import { randomBytes } from "node:crypto";
import { databaseNameOf, quoteIdent, withDatabase, withMaintenanceClient } from "../../src/db/admin.ts";

const TEMPLATE_URL = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/tokenmeter_test_template";

export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `tm_test_${randomBytes(6).toString("hex")}`;
  await withMaintenanceClient(TEMPLATE_URL, (c) =>
    c.query(`CREATE DATABASE ${quoteIdent(name)} TEMPLATE ${quoteIdent(databaseNameOf(TEMPLATE_URL))}`),
  );
  return {
    url: withDatabase(TEMPLATE_URL, name),
    drop: () =>
      withMaintenanceClient(TEMPLATE_URL, (c) =>
        c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`),
      ).then(() => undefined),
  };
}
