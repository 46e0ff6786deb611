// Each test file gets its own database, cloned from the template that scripts/test.sh migrated.
import { randomBytes } from "node:crypto";
import pg from "pg";

const TEMPLATE_URL = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/tokenmeter_test_template";

async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const admin = new URL(TEMPLATE_URL);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const template = decodeURIComponent(new URL(TEMPLATE_URL).pathname.slice(1));
  const name = `tm_test_${randomBytes(6).toString("hex")}`;
  await withAdmin((c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`));
  const url = new URL(TEMPLATE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => withAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined),
  };
}
