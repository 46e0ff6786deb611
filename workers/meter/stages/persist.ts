// The only stage that writes: ONE transaction per chunk inserts the events (a known event id is
// skipped), applies the TDL and total increments of exactly the rows it inserted, and flags the
// events that took a TDL cell past the consumer's limit. Each step is one set-based statement
// whatever the chunk's size: the rows travel as one array per column and unnest() turns them back
// into rows, so the cost per event is PostgreSQL's, not a client library's.
import { inTransaction, type SqlClient, type SqlPool } from "../../../src/db/pool.ts";
import { alreadyMerged, mergeRefusal, type Merge } from "./merge.ts";
import { mergeReports, type RefusedReport } from "./persist-merges.ts";
import { aggregate, type CellIncrement, type TotalIncrement } from "./aggregate.ts";
import type { MeteredEvent } from "./metered-event.ts";
import { columnArrays, INSERT_EVENTS } from "./event-columns.ts";

/** A book the chunk was priced with changed before it was written: price it again (pipeline.ts). */
export class PricesMoved extends Error {
  constructor(readonly books: string[]) {
    super(`price books changed while the chunk was priced: ${books.join(", ")}`);
    this.name = "PricesMoved";
  }
}

/**
 * Checks, inside the chunk's transaction, that every book it was priced with is still at the version
 * used. FOR SHARE orders this against a price being added (which bumps the version): either the
 * chunk commits first and the new price's repricing sees its events, or it sees the new version here.
 */
async function checkPriceVersions(client: SqlClient, events: MeteredEvent[]): Promise<void> {
  const used = new Map<string, number>();
  for (const e of events) {
    const by = e.rate?.pricedBy;
    if (by && by.source !== "consumer_rate") used.set(by.book_id, by.book_version);
  }
  if (used.size === 0) return;
  const { rows } = await client.query<{ id: string; version: number }>({
    name: "meter.price_versions",
    text: "SELECT id::text, version FROM price_books WHERE id = ANY($1::uuid[]) ORDER BY id FOR SHARE",
    values: [[...used.keys()]],
  });
  const moved = [...used].filter(([id, v]) => rows.find((r) => r.id === id)?.version !== v).map(([id]) => id);
  if (moved.length) throw new PricesMoved(moved);
}

async function insertEvents(client: SqlClient, events: MeteredEvent[]): Promise<Set<string>> {
  const { rows } = await client.query<{ id: string }>({ name: "meter.insert_events", text: INSERT_EVENTS, values: columnArrays(events) });
  return new Set(rows.map((r) => r.id));
}

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
 * Events that took their cell past its limit: with the cell at `calls` after this batch, the
 * batch's k events in it were calls number calls-k+1 .. calls of the day, in order of occurrence.
 */
function overTdlLimit(events: MeteredEvent[], cells: CellTotal[], limitOf: TdlLimitOf): string[] {
  const over: string[] = [];
  for (const cell of cells) {
    const limit = limitOf(cell.consumer_id, cell.slot, cell.level);
    if (limit === 0 || cell.calls <= limit) continue;
    const inCell = events
      .filter((e) => e.billable && e.consumerId === cell.consumer_id && e.localDate === cell.local_date && e.slot === cell.slot && e.level === cell.level)
      .sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime() || a.id.localeCompare(b.id));
    const first = cell.calls - inCell.length + 1;
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

const cellKey = (c: CellIncrement) => `${c.consumerId}|${c.localDate}|${String(c.slot).padStart(2, "0")}|${String(c.level).padStart(2, "0")}`;
const byKey = <T>(key: (x: T) => string) => (a: T, b: T) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

function inKeyOrder({ cells, totals }: { cells: CellIncrement[]; totals: TotalIncrement[] }) {
  return { cells: cells.sort(byKey(cellKey)), totals: totals.sort(byKey((t) => t.consumerId)) };
}

export type PersistOptions = { limitOf?: TdlLimitOf; merge?: Merge };
/** refused: reports of stored calls that may not be merged (another consumer's call), with why. */
export type Persisted = { inserted: MeteredEvent[]; merged: MeteredEvent[]; refused: RefusedReport[] };

/** A chunk's reports of one call: the first, with the chunk's later reports of it merged in memory. */
type Folded = { event: MeteredEvent; reports: MeteredEvent[]; folded: MeteredEvent[]; refused: RefusedReport[] };

/**
 * Groups the chunk's reports by call and merges each group's later reports into its first, in
 * arrival order, as persisting them one by one would: a call all of whose reports are in the chunk
 * is then inserted once, whole, and never updated.
 */
function foldByCall(events: MeteredEvent[], merge: Merge | undefined): Map<string, Folded> {
  const out = new Map<string, Folded>();
  for (const e of events) {
    const group = out.get(e.id);
    if (!group) {
      out.set(e.id, { event: e, reports: [e], folded: [], refused: [] });
      continue;
    }
    group.reports.push(e);
    if (!merge || alreadyMerged(group.event, e)) continue;
    const refusal = mergeRefusal(group.event, e);
    if (refusal) group.refused.push({ event: e, reason: refusal });
    else {
      group.event = merge(group.event, e);
      group.folded.push(e);
    }
  }
  return out;
}

/**
 * Returns the events inserted and the reports merged into events already stored (a report already
 * stored is neither: it is skipped and not counted again). Each call of the chunk goes in once,
 * with its reports in the chunk merged; a call already stored takes its reports by merge.
 */
export async function persist(pool: SqlPool, events: MeteredEvent[], o: PersistOptions = {}): Promise<Persisted> {
  if (events.length === 0) return { inserted: [], merged: [], refused: [] };
  const calls = foldByCall(events, o.merge);
  return inTransaction(pool, async (client) => {
    await checkPriceVersions(client, events);
    const candidates = [...calls.values()].map((c) => c.event);
    const insertedIds = await insertEvents(client, candidates);
    const fresh = candidates.filter((e) => insertedIds.has(e.id));
    // in key order, so two meters touching the same rows lock them in the same order (no deadlock)
    const { cells, totals } = inKeyOrder(aggregate(fresh));
    if (cells.length) {
      const over = overTdlLimit(fresh, await upsertCells(client, cells), o.limitOf ?? (() => 0));
      if (over.length) {
        await client.query("UPDATE usage_events SET limit_flags = array_append(limit_flags, 'tdl_limit_exceeded') WHERE id = ANY($1::text[])", [over]);
      }
    }
    if (totals.length) await upsertTotals(client, totals);
    const foldedIn = [...calls.values()].filter((c) => insertedIds.has(c.event.id));
    const merged = foldedIn.flatMap((c) => c.folded);
    const refused = foldedIn.flatMap((c) => c.refused);
    // calls already stored take their reports one by one, against the stored event
    const toMerge = [...calls.values()].filter((c) => !insertedIds.has(c.event.id)).flatMap((c) => c.reports);
    if (!o.merge || toMerge.length === 0) return { inserted: fresh, merged, refused };
    const done = await mergeReports(client, toMerge, o.merge);
    const moved = inKeyOrder(aggregate(done.changes));
    if (moved.cells.length) await upsertCells(client, moved.cells);
    if (moved.totals.length) await upsertTotals(client, moved.totals);
    return { inserted: fresh, merged: [...merged, ...done.merged], refused: [...refused, ...done.refused] };
  });
}
