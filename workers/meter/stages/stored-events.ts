// Calls already stored, as persist's transaction reads them: locked, with the status of the invoice
// that billed them. A call a finalized invoice billed keeps that invoice as it was when a later
// report changes it; the difference becomes a token correction that the next invoice bills once.
import type { SqlClient } from "../../../src/db/pool.ts";
import { Decimal } from "../../../src/domain/money.ts";
import { pricesOf } from "../../../src/domain/pricing.ts";
import { quantitiesOf, TOKEN_TYPES } from "../../../src/domain/token-types.ts";
import { joinCallRoute, joinPricingRecord, routeFieldsOf } from "../../../src/usage/shared-records.ts";
import { storedFigures } from "../../../src/usage/stored-figures.ts";
import type { MeteredEvent } from "./metered-event.ts";

export type StoredRow = Record<string, unknown> & {
  id: string;
  invoice_status: string | null;
  period_id: string | null;
  invoice_id: string | null;
};

const num = (v: unknown) => (v === null || v === undefined ? undefined : Number(v));
const dec = (v: unknown) => (v === null || v === undefined ? null : new Decimal(String(v)));

export function eventOf(r: StoredRow): MeteredEvent {
  return {
    id: r.id,
    consumerId: (r.consumer_id as string | null) ?? null,
    occurredAt: r.occurred_at as Date,
    receivedAt: r.received_at as Date,
    routeId: (r.route_id as string | null) ?? undefined,
    routeName: (r.route_name as string | null) ?? undefined,
    serviceId: (r.service_id as string | null) ?? undefined,
    serviceName: (r.service_name as string | null) ?? undefined,
    model: r.model as string,
    provider: (r.provider as string | null) ?? undefined,
    status: r.status as number,
    upstreamStatus: (r.upstream_status as string | null) ?? undefined,
    billable: r.billable as boolean,
    inputTokens: r.input_tokens as number,
    outputTokens: r.output_tokens as number,
    cachedInputTokens: r.cached_input_tokens as number,
    cacheWriteTokens: r.cache_write_tokens as number,
    reasoningTokens: r.reasoning_tokens as number,
    inputSource: r.input_source as MeteredEvent["inputSource"],
    outputSource: r.output_source as MeteredEvent["outputSource"],
    providerInputTokens: num(r.provider_input_tokens),
    providerOutputTokens: num(r.provider_output_tokens),
    countedInputTokens: num(r.counted_input_tokens),
    countedOutputTokens: num(r.counted_output_tokens),
    figures: storedFigures(r.figures, {
      countedInputTokens: r.counted_input_tokens as number | null,
      countedOutputTokens: r.counted_output_tokens as number | null,
      providerInputTokens: r.provider_input_tokens as number | null,
      providerOutputTokens: r.provider_output_tokens as number | null,
    }),
    reportedBy: r.reported_by as string[],
    encoding: (r.encoding as string | null) ?? undefined,
    // priced when it carries prices: by a consumer rate (rate_id), a book price (price_id), or both unset in old rows
    // never
    rate:
      r.input_cost_per_token !== null && r.input_cost_per_token !== undefined
        ? {
            id: (r.rate_id as string | null) ?? undefined,
            priceId: (r.price_id as string | null) ?? undefined,
            pricedBy: (r.priced_by as NonNullable<MeteredEvent["rate"]>["pricedBy"] | null) ?? undefined,
            inputCostPerToken: dec(r.input_cost_per_token)!,
            outputCostPerToken: dec(r.output_cost_per_token)!,
            cachedInputCostPerToken: dec(r.cached_input_cost_per_token),
            cacheWriteCostPerToken: dec(r.cache_write_cost_per_token),
            reasoningCostPerToken: dec(r.reasoning_cost_per_token),
            requestFee: dec(r.request_fee),
          }
        : undefined,
    cost: new Decimal(String(r.cost)),
    capability: num(r.capability),
    localDate: r.local_date as string,
    slot: r.slot as number,
    level: r.level as number,
    limitFlags: r.limit_flags as MeteredEvent["limitFlags"],
    metadataVersion: num(r.metadata_version),
    anomalies: r.anomalies as MeteredEvent["anomalies"],
  };
}

/**
 * The stored calls among `ids`, locked until the transaction ends (in id order, so writers never deadlock).
 * One index probe per id in every month: written as a lookup per id, so that a plan made while a month
 * was small (the meter keeps generic plans, see src/db/pool.ts) still probes rather than scans it.
 */
export async function lockStored(client: SqlClient, ids: string[]): Promise<Map<string, StoredRow>> {
  const { rows } = await client.query<StoredRow>({
    name: "meter.lock_stored",
    text: `SELECT e.*, to_char(e.local_date, 'YYYY-MM-DD') AS local_date, i.status::text AS invoice_status, i.period_id::text AS period_id,
       pr.priced_by, ${routeFieldsOf("cr")}
     FROM unnest($1::text[]) AS k(id) CROSS JOIN LATERAL (SELECT * FROM usage_events s WHERE s.id = k.id FOR UPDATE) e
       LEFT JOIN invoices i ON i.id = e.invoice_id ${joinPricingRecord("e", "pr")} ${joinCallRoute("e", "cr")}`,
    values: [[...ids].sort()],
  });
  return new Map(rows.map((r) => [r.id, r]));
}

/** Billed quantity per (model, token type) of an event; nothing when it is not billable. */
function billedLines(
  e: MeteredEvent,
): Map<string, { model: string; type: (typeof TOKEN_TYPES)[number]; quantity: number }> {
  const out = new Map<string, { model: string; type: (typeof TOKEN_TYPES)[number]; quantity: number }>();
  if (!e.billable) return out;
  const q = quantitiesOf({
    input: e.inputTokens,
    output: e.outputTokens,
    cachedInput: e.cachedInputTokens,
    cacheWrite: e.cacheWriteTokens,
    reasoning: e.reasoningTokens,
  });
  for (const type of TOKEN_TYPES)
    if (q[type] !== 0) out.set(`${e.model}\n${type}`, { model: e.model, type, quantity: q[type] });
  return out;
}

/**
 * What a finalized invoice billed for the event, against what it should have: one correction per (model, type) that
 * moved.
 */
export async function recordCorrections(
  client: SqlClient,
  before: MeteredEvent,
  after: MeteredEvent,
  row: StoredRow,
): Promise<void> {
  if (!after.rate || !after.consumerId) return; // an unpriced call billed nothing and bills nothing
  const prices = pricesOf(after.rate);
  const old = billedLines(before);
  const now = billedLines(after);
  for (const key of new Set([...old.keys(), ...now.keys()])) {
    const line = (now.get(key) ?? old.get(key))!;
    const delta = (now.get(key)?.quantity ?? 0) - (old.get(key)?.quantity ?? 0);
    if (delta === 0 || prices[line.type].isZero()) continue;
    await client.query(
      `INSERT INTO price_adjustments (id, consumer_id, kind, rate_id, reason, actor, adjusts_invoice_id, adjusts_period_id, model, direction,
         quantity, from_unit_price, to_unit_price, event_ids)
       VALUES (gen_random_uuid(), $1::uuid, 'tokens', $2::uuid, $3, 'meter', $4::uuid, $5::uuid, $6, $7::line_direction, $8, 0, $9::numeric, ARRAY[$10]::text[])`,
      [
        after.consumerId,
        after.rate.id ?? null,
        "a later report of the call changed its billed tokens",
        row.invoice_id,
        row.period_id,
        line.model,
        line.type,
        delta,
        prices[line.type].toFixed(),
        after.id,
      ],
    );
  }
}
