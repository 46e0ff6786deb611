// Reports of calls already stored, merged into their events inside persist's transaction: the
// events are locked, merged (merge.ts), written back, and their old figures swapped for the new
// ones in the TDL cells and totals. A call a finalized invoice billed keeps that invoice as it
// was; the difference becomes a token correction that the consumer's next invoice bills once.
import type { SqlClient } from "../../../src/db/pool.ts";
import { Decimal } from "../../../src/domain/money.ts";
import { pricesOf } from "../../../src/domain/pricing.ts";
import { quantitiesOf, TOKEN_TYPES } from "../../../src/domain/token-types.ts";
import type { Contribution } from "./aggregate.ts";
import { alreadyMerged, mergeRefusal, type Merge } from "./merge.ts";
import type { MeteredEvent } from "./metered-event.ts";
import { columnArrays, MERGED_COLUMNS, UPDATE_MERGED } from "./event-columns.ts";

type Row = Record<string, unknown> & { id: string; invoice_status: string | null; period_id: string | null; invoice_id: string | null };

const num = (v: unknown) => (v === null || v === undefined ? undefined : Number(v));
const dec = (v: unknown) => (v === null || v === undefined ? null : new Decimal(String(v)));

function eventOf(r: Row): MeteredEvent {
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
    figures: (r.figures ?? {}) as MeteredEvent["figures"],
    reportedBy: r.reported_by as string[],
    encoding: (r.encoding as string | null) ?? undefined,
    // priced when it carries prices: by a consumer rate (rate_id), a book price (price_id), or both unset in old rows never
    rate: r.input_cost_per_token !== null && r.input_cost_per_token !== undefined
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

async function lockStored(client: SqlClient, ids: string[]): Promise<Map<string, Row>> {
  const { rows } = await client.query<Row>(
    `SELECT e.*, to_char(e.local_date, 'YYYY-MM-DD') AS local_date, i.status::text AS invoice_status, i.period_id::text AS period_id
     FROM usage_events e LEFT JOIN invoices i ON i.id = e.invoice_id
     WHERE e.id = ANY($1::text[]) ORDER BY e.id FOR UPDATE OF e`,
    [ids],
  );
  return new Map(rows.map((r) => [r.id, r]));
}

/** The merged events written back in one statement. */
async function writeBack(client: SqlClient, events: MeteredEvent[]): Promise<void> {
  if (events.length === 0) return;
  await client.query({ name: "meter.update_merged", text: UPDATE_MERGED, values: columnArrays(events, MERGED_COLUMNS) });
}

/** Billed quantity per (model, token type) of an event; nothing when it is not billable. */
function billedLines(e: MeteredEvent): Map<string, { model: string; type: (typeof TOKEN_TYPES)[number]; quantity: number }> {
  const out = new Map<string, { model: string; type: (typeof TOKEN_TYPES)[number]; quantity: number }>();
  if (!e.billable) return out;
  const q = quantitiesOf({ input: e.inputTokens, output: e.outputTokens, cachedInput: e.cachedInputTokens, cacheWrite: e.cacheWriteTokens, reasoning: e.reasoningTokens });
  for (const type of TOKEN_TYPES) if (q[type] !== 0) out.set(`${e.model}\n${type}`, { model: e.model, type, quantity: q[type] });
  return out;
}

/** What a finalized invoice billed for the event, against what it should have: one correction per (model, type) that moved. */
async function recordCorrections(client: SqlClient, before: MeteredEvent, after: MeteredEvent, row: Row): Promise<void> {
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
      [after.consumerId, after.rate.id ?? null, "a later report of the call changed its billed tokens", row.invoice_id, row.period_id, line.model, line.type, delta, prices[line.type].toFixed(), after.id],
    );
  }
}

export type SignedContribution = { event: Contribution; sign: 1 | -1; countCall: false };

/**
 * Merges each incoming report into its stored event, in order (two reports of one call in one
 * chunk both land). Returns the reports merged and the aggregate changes: each event's old
 * figures out, its new ones in.
 */
export type RefusedReport = { event: MeteredEvent; reason: string };

export async function mergeReports(client: SqlClient, incoming: MeteredEvent[], merge: Merge): Promise<{ merged: MeteredEvent[]; refused: RefusedReport[]; changes: SignedContribution[] }> {
  const rows = await lockStored(client, [...new Set(incoming.map((e) => e.id))]);
  const current = new Map([...rows].map(([id, r]) => [id, eventOf(r)]));
  const original = new Map(current);
  const mergedIds = new Set<string>();
  const merged: MeteredEvent[] = [];
  const refused: RefusedReport[] = [];
  for (const e of incoming) {
    const stored = current.get(e.id);
    if (!stored || alreadyMerged(stored, e)) continue;
    const refusal = mergeRefusal(stored, e);
    if (refusal) {
      refused.push({ event: e, reason: refusal });
      continue;
    }
    current.set(e.id, merge(stored, e));
    mergedIds.add(e.id);
    merged.push(e);
  }
  const changes: SignedContribution[] = [];
  // in id order, as the rows were locked
  const ids = [...mergedIds].sort();
  await writeBack(client, ids.map((id) => current.get(id)!));
  for (const id of ids) {
    const before = original.get(id)!;
    const after = current.get(id)!;
    const row = rows.get(id)!;
    if (row.invoice_status === "finalized") await recordCorrections(client, before, after, row);
    changes.push({ event: before, sign: -1, countCall: false }, { event: after, sign: 1, countCall: false });
  }
  return { merged, refused, changes };
}
