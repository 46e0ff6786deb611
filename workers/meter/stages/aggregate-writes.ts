// The TDL cells and per-consumer totals a chunk moves, each one set-based statement in key order
// (two meters touching the same rows lock them in the same order, so they never deadlock), and the
// events that took a TDL cell past the consumer's limit.
import type { SqlClient } from "../../../src/db/pool.ts";
import { aggregate, type CellIncrement, type TotalIncrement } from "./aggregate.ts";
import type { MeteredEvent } from "./metered-event.ts";

type CellTotal = { consumer_id: string; local_date: string; slot: number; level: number; calls: number };

const UPSERT_CELLS = `
  INSERT INTO tdl_cells (consumer_id, local_date, slot, level, calls, input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, reasoning_tokens, cost)
  SELECT * FROM unnest($1::uuid[], $2::date[], $3::int[], $4::int[], $5::int[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::numeric[])
  ON CONFLICT (consumer_id, local_date, slot, level) DO UPDATE SET
    calls = tdl_cells.calls + EXCLUDED.calls,
    input_tokens = tdl_cells.input_tokens + EXCLUDED.input_tokens,
    output_tokens = tdl_cells.output_tokens + EXCLUDED.output_tokens,
    cached_input_tokens = tdl_cells.cached_input_tokens + EXCLUDED.cached_input_tokens,
    cache_write_tokens = tdl_cells.cache_write_tokens + EXCLUDED.cache_write_tokens,
    reasoning_tokens = tdl_cells.reasoning_tokens + EXCLUDED.reasoning_tokens,
    cost = tdl_cells.cost + EXCLUDED.cost
  RETURNING consumer_id::text AS consumer_id, to_char(local_date, 'YYYY-MM-DD') AS local_date, slot, level, calls`;

/** Returns every touched cell's count after the increment. */
async function upsertCells(client: SqlClient, cells: CellIncrement[]): Promise<CellTotal[]> {
  const { rows } = await client.query<CellTotal>({
    name: "meter.upsert_cells",
    text: UPSERT_CELLS,
    values: [
      cells.map((c) => c.consumerId),
      cells.map((c) => c.localDate),
      cells.map((c) => c.slot),
      cells.map((c) => c.level),
      cells.map((c) => c.calls),
      cells.map((c) => c.inputTokens),
      cells.map((c) => c.outputTokens),
      cells.map((c) => c.cachedInputTokens),
      cells.map((c) => c.cacheWriteTokens),
      cells.map((c) => c.reasoningTokens),
      cells.map((c) => c.cost.toFixed()),
    ],
  });
  return rows;
}

/** A cell's configured daily limit for a consumer; 0 = no limit. */
export type TdlLimitOf = (consumerId: string, slot: number, level: number) => number;

/**
 * New events that took their cell past its limit: the cell held `calls - increment` calls before
 * this chunk, and the chunk's k new events in it were the next k calls of the day, in order of
 * occurrence (a merged call that moved into the cell was counted when it was first stored).
 */
function overTdlLimit(
  events: MeteredEvent[],
  cells: CellTotal[],
  increments: Map<string, number>,
  limitOf: TdlLimitOf,
): string[] {
  const over: string[] = [];
  for (const cell of cells) {
    const limit = limitOf(cell.consumer_id, cell.slot, cell.level);
    if (limit === 0 || cell.calls <= limit) continue;
    const inCell = events
      .filter(
        (e) =>
          e.billable &&
          e.consumerId === cell.consumer_id &&
          e.localDate === cell.local_date &&
          e.slot === cell.slot &&
          e.level === cell.level,
      )
      .sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime() || a.id.localeCompare(b.id));
    const first = cell.calls - (increments.get(cellKey(cell)) ?? 0) + 1;
    inCell.forEach((e, i) => {
      if (first + i > limit) over.push(e.id);
    });
  }
  return over;
}

const UPSERT_TOTALS = `
  INSERT INTO consumer_totals (consumer_id, calls, billable_calls, input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, reasoning_tokens, cost, updated_at)
  SELECT *, now() FROM unnest($1::uuid[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::numeric[])
  ON CONFLICT (consumer_id) DO UPDATE SET
    calls = consumer_totals.calls + EXCLUDED.calls,
    billable_calls = consumer_totals.billable_calls + EXCLUDED.billable_calls,
    input_tokens = consumer_totals.input_tokens + EXCLUDED.input_tokens,
    output_tokens = consumer_totals.output_tokens + EXCLUDED.output_tokens,
    cached_input_tokens = consumer_totals.cached_input_tokens + EXCLUDED.cached_input_tokens,
    cache_write_tokens = consumer_totals.cache_write_tokens + EXCLUDED.cache_write_tokens,
    reasoning_tokens = consumer_totals.reasoning_tokens + EXCLUDED.reasoning_tokens,
    cost = consumer_totals.cost + EXCLUDED.cost,
    updated_at = now()`;

async function upsertTotals(client: SqlClient, totals: TotalIncrement[]): Promise<void> {
  await client.query({
    name: "meter.upsert_totals",
    text: UPSERT_TOTALS,
    values: [
      totals.map((t) => t.consumerId),
      totals.map((t) => t.calls),
      totals.map((t) => t.billableCalls),
      totals.map((t) => t.inputTokens),
      totals.map((t) => t.outputTokens),
      totals.map((t) => t.cachedInputTokens),
      totals.map((t) => t.cacheWriteTokens),
      totals.map((t) => t.reasoningTokens),
      totals.map((t) => t.cost.toFixed()),
    ],
  });
}

const cellKeyOf = (consumerId: string, localDate: string, slot: number, level: number) =>
  `${consumerId}|${localDate}|${String(slot).padStart(2, "0")}|${String(level).padStart(2, "0")}`;
const incrementKey = (c: CellIncrement) => cellKeyOf(c.consumerId, c.localDate, c.slot, c.level);
const cellKey = (c: CellTotal) => cellKeyOf(c.consumer_id, c.local_date, c.slot, c.level);
const byKey =
  <T>(key: (x: T) => string) =>
  (a: T, b: T) =>
    key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;

function inKeyOrder({ cells, totals }: { cells: CellIncrement[]; totals: TotalIncrement[] }) {
  return { cells: cells.sort(byKey(incrementKey)), totals: totals.sort(byKey((t) => t.consumerId)) };
}

/** A merged call's change to the aggregates: its old figures out, its new ones in (the call was counted already). */
export type Change = { before: MeteredEvent; after: MeteredEvent };

/**
 * Applies what the chunk's new events add and its merged calls change, and flags the new events
 * that went past a TDL limit.
 */
export async function moveAggregates(
  client: SqlClient,
  fresh: MeteredEvent[],
  changes: Change[],
  limitOf: TdlLimitOf,
): Promise<void> {
  const signed = changes.flatMap((c) => [
    { event: c.before, sign: -1 as const, countCall: false },
    { event: c.after, sign: 1 as const, countCall: false },
  ]);
  const { cells, totals } = inKeyOrder(aggregate([...fresh, ...signed]));
  if (cells.length) {
    const increments = new Map(cells.map((c) => [incrementKey(c), c.calls]));
    const over = overTdlLimit(fresh, await upsertCells(client, cells), increments, limitOf);
    if (over.length) {
      await client.query(
        "UPDATE usage_events SET limit_flags = array_append(limit_flags, 'tdl_limit_exceeded') WHERE id = ANY($1::text[])",
        [over],
      );
    }
  }
  if (totals.length) await upsertTotals(client, totals);
}
