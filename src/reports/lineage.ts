// Lineage: from an invoice line to the events behind it, and for one event why it cost what it
// cost (tokens per type with their sources, the rate and prices, the metadata version, limits).
import { Prisma, type Db } from "../db/client.ts";
import { notFound } from "../domain/errors.ts";
import { Decimal } from "../domain/money.ts";
import { quantitiesOf, TOKEN_TYPES, type TokenType } from "../domain/token-types.ts";
import { PRICE_SQL, QUANTITY_SQL } from "../billing/token-type-sql.ts";
import { storedFigures } from "../usage/stored-figures.ts";

type LineEventRow = { id: string; occurred_at: Date; quantity: bigint; cost: string };

/** An event under a line: its share of the line (quantity x the line's unit price) beside the whole call's cost. */
const lineEvent = (r: LineEventRow, unitPrice: string) => ({
  id: r.id,
  occurred_at: r.occurred_at.toISOString(),
  quantity: Number(r.quantity),
  amount: new Decimal(unitPrice).times(r.quantity.toString()).toFixed(),
  cost: new Decimal(r.cost).toFixed(),
});

/**
 * The events of one invoice line, by event id from `after` on. A usage line holds the invoice's
 * events of its model whose type quantity is billed at its unit price; an adjustment line names
 * its events.
 */
export async function lineEvents(
  db: Db,
  invoiceId: string,
  position: number,
  after: string | undefined,
  limit: number,
) {
  const line = await db.invoiceLine.findFirst({
    where: { invoiceId, position },
    include: { invoice: { include: { period: true } } },
  });
  if (!line) throw notFound(`invoice ${invoiceId} has no line ${position}`);
  if (line.charge === "request_fee") return feeLineEvents(db, line, after, limit);
  if (line.charge || !line.direction) {
    // a plan's charge is an amount, not calls: the usage lines it rates are the invoice's own
    const base = {
      invoice_id: invoiceId,
      position,
      model: line.model,
      token_type: line.direction,
      quantity: Number(line.quantity),
      unit_price: line.unitPrice.toFixed(),
    };
    return { ...base, kind: line.charge ?? "charge", events: [], next_cursor: null };
  }
  const type = line.direction as TokenType;
  const quantity = Prisma.raw(QUANTITY_SQL[type]);
  const named = line.adjustsEventIds.length > 0;
  const scope = named
    ? Prisma.sql`id = ANY(${line.adjustsEventIds}::text[])`
    : Prisma.sql`consumer_id = ${line.invoice.consumerId}::uuid AND invoice_id = ${invoiceId}::uuid AND occurred_at >= ${line.invoice.period.startsAt}
        AND billable AND model = ${line.model} AND (${quantity}) <> 0 AND ${Prisma.raw(PRICE_SQL[type])} = ${line.unitPrice.toFixed()}::numeric`;
  const cursor = after ? Prisma.sql`AND id > ${after}` : Prisma.empty;
  const rows = await db.$queryRaw<LineEventRow[]>`
    SELECT id, occurred_at, (${quantity})::bigint AS quantity, cost::text FROM usage_events
    WHERE ${scope} ${cursor} ORDER BY id LIMIT ${limit + 1}`;
  const page = rows.slice(0, limit);
  return {
    invoice_id: invoiceId,
    position,
    model: line.model,
    token_type: type,
    quantity: Number(line.quantity),
    unit_price: line.unitPrice.toFixed(),
    // an adjustment line bills a difference: its events' quantities are what they are now
    kind: named ? "adjustment" : "usage",
    events: page.map((r) => lineEvent(r, line.unitPrice.toFixed())),
    next_cursor: rows.length > limit ? page[page.length - 1]!.id : null,
  };
}

type Line = NonNullable<Awaited<ReturnType<Db["invoiceLine"]["findFirst"]>>> & {
  invoice: { consumerId: string; period: { startsAt: Date } };
};

/** The calls a fee-per-request line bills: one request each. */
async function feeLineEvents(db: Db, line: Line, after: string | undefined, limit: number) {
  const scope =
    line.adjustsEventIds.length > 0
      ? Prisma.sql`id = ANY(${line.adjustsEventIds}::text[])`
      : Prisma.sql`consumer_id = ${line.invoice.consumerId}::uuid AND invoice_id = ${line.invoiceId}::uuid AND occurred_at >= ${line.invoice.period.startsAt}
        AND billable AND model = ${line.model} AND request_fee = ${line.unitPrice.toFixed()}::numeric`;
  const cursor = after ? Prisma.sql`AND id > ${after}` : Prisma.empty;
  const rows = await db.$queryRaw<
    LineEventRow[]
  >`SELECT id, occurred_at, 1::bigint AS quantity, cost::text FROM usage_events WHERE ${scope} ${cursor} ORDER BY id LIMIT ${limit + 1}`;
  const page = rows.slice(0, limit);
  return {
    invoice_id: line.invoiceId,
    position: line.position,
    model: line.model,
    token_type: null,
    quantity: Number(line.quantity),
    unit_price: line.unitPrice.toFixed(),
    kind: "request_fee",
    events: page.map((r) => lineEvent(r, line.unitPrice.toFixed())),
    next_cursor: rows.length > limit ? page[page.length - 1]!.id : null,
  };
}

/** Every source's figures with the API's snake_case type names. */
function presentFigures(figures: unknown): Record<string, Record<string, number>> {
  const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return Object.fromEntries(
    Object.entries((figures ?? {}) as Record<string, Record<string, number>>).map(([source, f]) => [
      source,
      Object.fromEntries(Object.entries(f).map(([k, v]) => [snake(k), v])),
    ]),
  );
}

const text = (v: { toFixed(): string } | null) => (v === null ? null : new Decimal(v.toFixed()).toFixed());

/** Why one event cost what it cost. */
export async function explainEvent(db: Db, id: string) {
  const e = await db.usageEvent.findFirst({ where: { id } });
  if (!e) throw notFound(`event ${id} not found`);
  // a call stamped for an invoice its period has not made yet is on none so far
  const [invoice, pricing] = await Promise.all([
    e.invoiceId ? db.invoice.findUnique({ where: { id: e.invoiceId }, select: { id: true, status: true } }) : null,
    e.pricedById ? db.pricingRecord.findUnique({ where: { id: e.pricedById } }) : null,
  ]);
  const q = quantitiesOf({
    input: e.inputTokens,
    output: e.outputTokens,
    cachedInput: e.cachedInputTokens,
    cacheWrite: e.cacheWriteTokens,
    reasoning: e.reasoningTokens,
  });
  const stamped: Record<TokenType, string | null> = {
    input: text(e.inputCostPerToken),
    output: text(e.outputCostPerToken),
    cached_input: text(e.cachedInputCostPerToken) ?? text(e.inputCostPerToken),
    cache_write: text(e.cacheWriteCostPerToken) ?? text(e.inputCostPerToken),
    reasoning: text(e.reasoningCostPerToken) ?? text(e.outputCostPerToken),
  };
  const source = (t: TokenType) =>
    t === "input" || t === "output" ? (t === "input" ? e.inputSource : e.outputSource) : q[t] > 0 ? "provider" : null;
  return {
    id: e.id,
    consumer_id: e.consumerId,
    occurred_at: e.occurredAt.toISOString(),
    model: e.model,
    billable: e.billable,
    reported_by: e.reportedBy,
    tokens: Object.fromEntries(
      TOKEN_TYPES.map((t) => [
        t,
        {
          quantity: q[t],
          source: source(t),
          unit_price: stamped[t],
          cost: e.billable && stamped[t] !== null ? new Decimal(stamped[t]!).times(q[t]).toFixed() : "0",
        },
      ]),
    ),
    figures: presentFigures(storedFigures(e.figures, e)),
    cost: new Decimal(e.cost.toFixed()).toFixed(),
    rate_id: e.rateId,
    price_id: e.priceId,
    /**
     * Which price priced the call and why (plan book, entry and match, or the consumer's own rate); null: unpriced or
     * not billable.
     */
    priced_by: pricing?.pricedBy ?? null,
    encoding: e.encoding,
    metadata_version: e.metadataVersion,
    limit_flags: e.limitFlags,
    anomalies: e.anomalies,
    invoice: invoice ? { id: invoice.id, status: invoice.status } : null,
  };
}
