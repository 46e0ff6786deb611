// Bytes per usage event on disk: the table (heap and TOAST) and its indexes, and which columns a
// stored row spends them on, so a change to what a row keeps shows in the benchmark's figures.
import type pg from "pg";

export type Storage = { table: number; indexes: number; row: number; columns: string };

/**
 * Bytes per event over the whole table; `row` and `columns` are the average stored row and its largest
 * columns, over the calls of the consumers with Kong ids `kongIds` when given (one benchmark mode's).
 */
export async function storagePerEvent(client: pg.Client | pg.Pool, kongIds?: string[]): Promise<Storage> {
  // usage_events is partitioned: its months hold the rows and indexes
  const { rows } = await client.query<{ table: string; indexes: string; n: string }>(
    `SELECT sum(pg_table_size(relid)) AS table, sum(pg_indexes_size(relid)) AS indexes, (SELECT count(*) FROM usage_events) AS n
     FROM pg_partition_tree('usage_events') WHERE isleaf`,
  );
  const r = rows[0]!;
  const n = Math.max(1, Number(r.n));
  const { rows: cols } = await client.query<{ attname: string }>(
    `SELECT attname FROM pg_attribute WHERE attrelid = 'usage_events'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
  );
  const sizes = cols.map(
    (c) => `avg(coalesce(pg_column_size(e.${JSON.stringify(c.attname)}), 0))::float AS ${JSON.stringify(c.attname)}`,
  );
  const { rows: avg } = await client.query<Record<string, number | null>>(
    `SELECT avg(pg_column_size(e.*))::float AS "(row)", ${sizes.join(", ")} FROM (SELECT * FROM usage_events ${kongIds ? "WHERE consumer_id IN (SELECT id FROM consumers WHERE kong_id = ANY($1::text[]))" : ""} LIMIT 20000) e`,
    kongIds ? [kongIds] : [],
  );
  const a = avg[0] ?? {};
  const columns = Object.entries(a)
    .filter(([k, v]) => k !== "(row)" && v !== null && v >= 8)
    .sort((x, y) => y[1]! - x[1]!)
    .slice(0, 8)
    .map(([k, v]) => `${k}:${Math.round(v!)}`)
    .join(",");
  return { table: Number(r.table) / n, indexes: Number(r.indexes) / n, row: Math.round(a["(row)"] ?? 0), columns };
}
