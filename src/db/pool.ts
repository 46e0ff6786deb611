// A plain pg pool beside Prisma, for the meter's hot path only: one chunk's events go in as a few
// set-based statements (arrays through unnest) instead of Prisma's per-row path. Everything else
// stays on Prisma.
import pg from "pg";

export type SqlPool = pg.Pool;
export type SqlClient = pg.PoolClient;

/** Chunks (transactions) a connection serves before it is replaced, and its plans with it. */
const MAX_USES = 50;

export function createSqlPool(databaseUrl: string, onError: (err: Error) => void): SqlPool {
  // The meter's statements are named, so each is prepared once per connection. On usage_events,
  // partitioned by month, a plan made for each execution's values costs more to make (milliseconds
  // per chunk statement) than the generic plan costs to run; that one prunes months as it starts.
  // A generic plan keeps the sizes its tables had when it was made (a month starts empty, and is
  // planned again only when it is analyzed), so a connection is replaced after MAX_USES chunks.
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: 4,
    idleTimeoutMillis: 30_000,
    maxUses: MAX_USES,
    options: "-c plan_cache_mode=force_generic_plan",
  });
  // an idle connection that breaks (PostgreSQL restarted) is reported here, not thrown
  pool.on("error", onError);
  return pool;
}

/** Runs `work` in one transaction on one connection: committed whole, or rolled back. */
export async function inTransaction<T>(pool: SqlPool, work: (client: SqlClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    await client.query("ROLLBACK").catch((e: Error) => (broken = e));
    throw err;
  } finally {
    client.release(broken); // a connection that could not roll back is dropped, not reused
  }
}
