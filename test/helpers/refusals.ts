// Makes the test's PostgreSQL refuse chosen rows, as an operator's trigger or constraint would:
// a BEFORE INSERT trigger raising `sqlState` with `message` when `when` (SQL over NEW) holds.
import type { PrismaClient } from "../../src/db/client.ts";

export type Refusal = { name: string; table: string; when: string; sqlState: string; message: string };

export async function refuseInserts(db: PrismaClient, r: Refusal): Promise<{ lift(): Promise<void> }> {
  await db.$executeRawUnsafe(`
    CREATE FUNCTION ${r.name}() RETURNS trigger AS $$
    BEGIN
      IF ${r.when} THEN RAISE EXCEPTION '${r.message}' USING ERRCODE = '${r.sqlState}'; END IF;
      RETURN NEW;
    END $$ LANGUAGE plpgsql`);
  await db.$executeRawUnsafe(
    `CREATE TRIGGER ${r.name} BEFORE INSERT ON ${r.table} FOR EACH ROW EXECUTE FUNCTION ${r.name}()`,
  );
  return { lift: () => db.$executeRawUnsafe(`DROP TRIGGER ${r.name} ON ${r.table}`).then(() => undefined) };
}
