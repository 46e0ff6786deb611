// The only stage that writes: ONE transaction per batch inserts the events (a known event id is
// skipped) and applies the TDL and total increments of exactly the rows it inserted.
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
  };
}

function upsertCells(tx: Prisma.TransactionClient, cells: CellIncrement[]) {
  const rows = cells.map(
    (c) =>
      Prisma.sql`(${c.consumerId}::uuid, ${c.localDate}::date, ${c.slot}::int, ${c.level}::int, ${c.calls}::int,
        ${c.inputTokens}::bigint, ${c.outputTokens}::bigint, ${c.cost.toFixed()}::numeric)`,
  );
  return tx.$executeRaw`
    INSERT INTO tdl_cells (consumer_id, local_date, slot, level, calls, input_tokens, output_tokens, cost)
    VALUES ${Prisma.join(rows)}
    ON CONFLICT (consumer_id, local_date, slot, level) DO UPDATE SET
      calls = tdl_cells.calls + EXCLUDED.calls,
      input_tokens = tdl_cells.input_tokens + EXCLUDED.input_tokens,
      output_tokens = tdl_cells.output_tokens + EXCLUDED.output_tokens,
      cost = tdl_cells.cost + EXCLUDED.cost`;
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

/** Returns the ids newly inserted (known ids are skipped and not counted again). */
export async function persist(db: PrismaClient, events: MeteredEvent[]): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  return db.$transaction(async (tx) => {
    const inserted = await tx.usageEvent.createManyAndReturn({
      data: events.map(eventRow),
      skipDuplicates: true,
      select: { id: true },
    });
    const insertedIds = new Set(inserted.map((r) => r.id));
    const { cells, totals } = aggregate(events.filter((e) => insertedIds.has(e.id)));
    if (cells.length) await upsertCells(tx, cells);
    if (totals.length) await upsertTotals(tx, totals);
    return insertedIds;
  });
}
