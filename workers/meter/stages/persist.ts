// The only stage that writes: ONE transaction per batch inserts the events (a known event id is
// skipped), applies the TDL and total increments of exactly the rows it inserted, and flags the
// events that took a TDL cell past the consumer's limit.
import { Prisma, type PrismaClient } from "../../../src/db/client.ts";
import { aggregate, type CellIncrement, type TotalIncrement } from "./aggregate.ts";
import type { MeteredEvent } from "./metered-event.ts";

const asDate = (localDate: string) => new Date(`${localDate}T00:00:00Z`);

function eventRow(e: MeteredEvent) {
  return {
    id: e.id,
    consumerId: e.consumerId,
    occurredAt: e.occurredAt,
    receivedAt: e.receivedAt,
    routeId: e.routeId,
    routeName: e.routeName,
    serviceId: e.serviceId,
    serviceName: e.serviceName,
    model: e.model,
    provider: e.provider,
    status: e.status,
    upstreamStatus: e.upstreamStatus,
    billable: e.billable,
    inputTokens: e.inputTokens,
    outputTokens: e.outputTokens,
    inputSource: e.inputSource,
    outputSource: e.outputSource,
    providerInputTokens: e.providerInputTokens,
    providerOutputTokens: e.providerOutputTokens,
    encoding: e.encoding,
    rateId: e.rate?.id,
    inputCostPerToken: e.rate?.inputCostPerToken.toFixed(),
    outputCostPerToken: e.rate?.outputCostPerToken.toFixed(),
    cost: e.cost.toFixed(),
    capability: e.capability,
    localDate: asDate(e.localDate),
    slot: e.slot,
    level: e.level,
    limitFlags: e.limitFlags,
    metadataVersion: e.metadataVersion,
    anomalies: e.anomalies,
  };
}

type CellTotal = { consumer_id: string; local_date: string; slot: number; level: number; calls: number };

/** Returns every touched cell's count after the increment. */
function upsertCells(tx: Prisma.TransactionClient, cells: CellIncrement[]) {
  const rows = cells.map(
    (c) =>
      Prisma.sql`(${c.consumerId}::uuid, ${c.localDate}::date, ${c.slot}::int, ${c.level}::int, ${c.calls}::int,
        ${c.inputTokens}::bigint, ${c.outputTokens}::bigint, ${c.cost.toFixed()}::numeric)`,
  );
  return tx.$queryRaw<CellTotal[]>`
    INSERT INTO tdl_cells (consumer_id, local_date, slot, level, calls, input_tokens, output_tokens, cost)
    VALUES ${Prisma.join(rows)}
    ON CONFLICT (consumer_id, local_date, slot, level) DO UPDATE SET
      calls = tdl_cells.calls + EXCLUDED.calls,
      input_tokens = tdl_cells.input_tokens + EXCLUDED.input_tokens,
      output_tokens = tdl_cells.output_tokens + EXCLUDED.output_tokens,
      cost = tdl_cells.cost + EXCLUDED.cost
    RETURNING consumer_id::text AS consumer_id, to_char(local_date, 'YYYY-MM-DD') AS local_date, slot, level, calls`;
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

function upsertTotals(tx: Prisma.TransactionClient, totals: TotalIncrement[]) {
  const rows = totals.map(
    (t) =>
      Prisma.sql`(${t.consumerId}::uuid, ${t.calls}::bigint, ${t.billableCalls}::bigint, ${t.inputTokens}::bigint,
        ${t.outputTokens}::bigint, ${t.cost.toFixed()}::numeric, now())`,
  );
  return tx.$executeRaw`
    INSERT INTO consumer_totals (consumer_id, calls, billable_calls, input_tokens, output_tokens, cost, updated_at)
    VALUES ${Prisma.join(rows)}
    ON CONFLICT (consumer_id) DO UPDATE SET
      calls = consumer_totals.calls + EXCLUDED.calls,
      billable_calls = consumer_totals.billable_calls + EXCLUDED.billable_calls,
      input_tokens = consumer_totals.input_tokens + EXCLUDED.input_tokens,
      output_tokens = consumer_totals.output_tokens + EXCLUDED.output_tokens,
      cost = consumer_totals.cost + EXCLUDED.cost,
      updated_at = now()`;
}

// Prisma's interactive transactions time out after 5 s by default; a large chunk on a loaded
// machine can take longer, and a timeout would be retried as transient for ever.
const TRANSACTION = { timeout: 60_000, maxWait: 15_000 };

/** Returns the ids newly inserted (known ids are skipped and not counted again). */
export async function persist(db: PrismaClient, events: MeteredEvent[], limitOf: TdlLimitOf = () => 0): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  return db.$transaction(async (tx) => {
    const inserted = await tx.usageEvent.createManyAndReturn({
      data: events.map(eventRow),
      skipDuplicates: true,
      select: { id: true },
    });
    const insertedIds = new Set(inserted.map((r) => r.id));
    const fresh = events.filter((e) => insertedIds.has(e.id));
    const { cells, totals } = aggregate(fresh);
    if (cells.length) {
      const over = overTdlLimit(fresh, await upsertCells(tx, cells), limitOf);
      if (over.length) {
        await tx.$executeRaw`UPDATE usage_events SET limit_flags = array_append(limit_flags, 'tdl_limit_exceeded') WHERE id = ANY(${over})`;
      }
    }
    if (totals.length) await upsertTotals(tx, totals);
    return insertedIds;
  }, TRANSACTION);
}
