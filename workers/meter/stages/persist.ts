// The only stage that writes: ONE transaction per chunk locks the chunk's call ids (call-locks.ts:
// usage_events is partitioned by month, so no unique index keeps an id once) and the calls already stored,
// merges the chunk's reports into them, writes new and merged calls in one statement, moves the TDL
// cells, totals and daily rollup by exactly what it wrote, burns the consumers' credit by the cost it wrote
// (src/credits/), and flags the events that took a TDL cell past the consumer's limit. A call dated in
// an archived month is refused (archived-months.ts). Each step
// is one set-based statement whatever the chunk's size: the rows travel as one array per column
// and unnest() turns them back into rows, so the cost per event is PostgreSQL's, not a client
// library's.
import { inTransaction, type SqlClient, type SqlPool } from "../../../src/db/pool.ts";
import type { Merge } from "./merge.ts";
import { foldByCall, planWrites, type Call, type MergedCall, type RefusedReport } from "./call-writes.ts";
import { moveAggregates, type TdlLimitOf } from "./aggregate-writes.ts";
import type { MeteredEvent } from "./metered-event.ts";
import { UPSERT_EVENTS, upsertParameters } from "./event-columns.ts";
import { settleCosts } from "../../../src/credits/settle-costs.ts";
import { pgSql } from "../../../src/db/sql.ts";
import { ZERO } from "../../../src/domain/money.ts";
import { stampInvoices, type BillingPeriods } from "./stamp-invoices.ts";
import { dailyOf, moveDaily, type DailyRow } from "../../../src/usage/daily-rollup.ts";
import { eventOf, lockStored, recordCorrections, type StoredRow } from "./stored-events.ts";
import { lockCallIds } from "./call-locks.ts";
import { refuseArchived } from "./archived-months.ts";

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

/** How often calls another writer stored meanwhile are read again before the chunk gives up (a retry follows). */
const WRITE_ROUNDS = 3;

/**
 * Locks the calls already stored, merges the chunk's reports into them, and writes new and merged
 * calls in one statement. A call another writer inserted between the lock and the write is left
 * to the next round, which finds it stored and merges into it.
 */
async function writeCalls(client: SqlClient, calls: Call[], merge: Merge | undefined) {
  const out = {
    fresh: [] as Call[],
    merges: [] as MergedCall[],
    refused: [] as RefusedReport[],
    rows: new Map<string, StoredRow>(),
    /** The daily rollup rows of the merged calls as they were before this chunk changed them. */
    dailyBefore: [] as DailyRow[],
  };
  let pending = calls;
  for (let round = 1; pending.length; round++) {
    if (round > WRITE_ROUNDS)
      throw new Error(`${pending.length} calls kept being stored by another writer while this chunk was written`);
    const rows = await lockStored(
      client,
      pending.map((c) => c.event.id),
    );
    const plan = planWrites(pending, new Map([...rows].map(([id, r]) => [id, eventOf(r)])), merge);
    const mergedIds = plan.merges.map((m) => m.after.id);
    const events = [...plan.fresh.map((c) => c.event), ...plan.merges.map((m) => m.after)];
    out.dailyBefore.push(
      ...(await dailyOf(
        client,
        plan.merges.map((m) => m.after),
      )),
    );
    const { rows: written } = events.length
      ? await client.query<{ id: string }>({
          name: "meter.upsert_events",
          text: UPSERT_EVENTS,
          values: upsertParameters(events, mergedIds),
        })
      : { rows: [] };
    const writtenIds = new Set(written.map((r) => r.id));
    out.fresh.push(...plan.fresh.filter((c) => writtenIds.has(c.event.id)));
    out.merges.push(...plan.merges);
    out.refused.push(...plan.refused);
    for (const [id, r] of rows) out.rows.set(id, r);
    pending = plan.fresh.filter((c) => !writtenIds.has(c.event.id));
  }
  return out;
}

/** billing: the period settings new calls are stamped with their invoice by (none: no stamping). */
export type PersistOptions = { limitOf?: TdlLimitOf; merge?: Merge; billing?: BillingPeriods };
/** refused: reports of stored calls that may not be merged (another consumer's call), with why. */
export type Persisted = { inserted: MeteredEvent[]; merged: MeteredEvent[]; refused: RefusedReport[] };

/**
 * Returns the events inserted and the reports merged into calls (a report already stored is
 * neither: it is skipped and not counted again). Each call of the chunk goes in once, with its
 * reports in the chunk merged; a call already stored takes its reports by merge.
 */
export async function persist(pool: SqlPool, chunk: MeteredEvent[], o: PersistOptions = {}): Promise<Persisted> {
  if (chunk.length === 0) return { inserted: [], merged: [], refused: [] };
  return inTransaction(pool, async (client) => {
    await lockCallIds(
      client,
      chunk.map((e) => e.id),
    );
    const { kept: events, refused: archived } = await refuseArchived(client, chunk);
    await checkPriceVersions(client, events);
    if (o.billing) await stampInvoices(client, events, o.billing);
    const calls = foldByCall(events, o.merge);
    const { fresh, merges, refused, rows, dailyBefore } = await writeCalls(client, calls, o.merge);
    const inserted = fresh.map((c) => c.event);
    await moveAggregates(client, inserted, merges, o.limitOf ?? (() => 0));
    // from the rows as written, limit flags included
    await moveDaily(client, [...inserted, ...merges.map((m) => m.after)], dailyBefore);
    const costs = [
      ...inserted.map((e) => ({
        eventId: e.id,
        consumerId: e.consumerId,
        at: e.occurredAt,
        cost: e.cost,
        previousCost: ZERO,
      })),
      ...merges.map(({ before, after }) => ({
        eventId: after.id,
        consumerId: after.consumerId,
        at: after.occurredAt,
        cost: after.cost,
        previousCost: before.cost,
      })),
    ];
    await settleCosts(pgSql(client), costs, new Set(merges.map((m) => m.after.id)));
    for (const m of merges) {
      const row = rows.get(m.after.id)!;
      if (row.invoice_status === "finalized") await recordCorrections(client, m.before, m.after, row);
    }
    return {
      inserted,
      merged: [...fresh.flatMap((c) => c.folded), ...merges.flatMap((m) => m.merged)],
      refused: [...fresh.flatMap((c) => c.refused), ...refused, ...archived],
    };
  });
}
