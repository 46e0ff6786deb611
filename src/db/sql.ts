// One SQL statement runner over either client: the meter's pg connection (or pool) or a Prisma transaction.
// Code that both write paths share (credits) is written once against it.
import type { Db } from "./client.ts";
import type { SqlClient, SqlPool } from "./pool.ts";

export type Sql = { query<R>(text: string, values: unknown[]): Promise<R[]> };

/** A connection, or the pool for a statement on any connection. */
export const pgSql = (client: SqlClient | SqlPool): Sql => ({
  query: async <R>(text: string, values: unknown[]) => (await client.query(text, values)).rows as R[],
});

export const prismaSql = (tx: Db): Sql => ({
  query: <R>(text: string, values: unknown[]) => tx.$queryRawUnsafe<R[]>(text, ...values),
});
