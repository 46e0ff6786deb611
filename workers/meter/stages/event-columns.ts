// A usage event's columns, each with its PostgreSQL type and how it is read from a metered event.
// Rows travel as one array per column, and unnest() turns them back into rows: new calls and
// merged ones are written by one statement whatever the chunk's size.
import { pricesOf } from "../../../src/domain/pricing.ts";
import {
  callRouteId,
  pricingRecordId,
  storeCallRoutes,
  storePricingRecords,
} from "../../../src/usage/shared-records.ts";
import { figuresToStore } from "../../../src/usage/stored-figures.ts";
import type { MeteredEvent } from "./metered-event.ts";

/**
 * `stored`: the column the value lands in and its SQL over `t`, when it is not the value itself; null
 * when the value is only read by another column's SQL.
 */
type Column = [name: string, pgType: string, value: (e: MeteredEvent) => unknown, stored?: [string, string] | null];

/** A text[] value as one array element: unnest cannot take an array of arrays, so it travels as its literal. */
const arrayLiteral = (xs: string[]) => `{${xs.map((x) => `"${x.replace(/["\\]/g, "\\$&")}"`).join(",")}}`;

const jsonOrNull = (v: unknown) => (v === null ? null : JSON.stringify(v));

const EVENT_COLUMNS: Column[] = [
  ["id", "text", (e) => e.id],
  ["consumer_id", "uuid", (e) => e.consumerId],
  ["occurred_at", "timestamptz", (e) => e.occurredAt.toISOString()],
  ["received_at", "timestamptz", (e) => e.receivedAt.toISOString()],
  ["route_id", "text", (e) => e.routeId ?? null, ["call_route_id", callRouteId("t")]],
  ["route_name", "text", (e) => e.routeName ?? null, null],
  ["service_id", "text", (e) => e.serviceId ?? null, null],
  ["service_name", "text", (e) => e.serviceName ?? null, null],
  ["model", "text", (e) => e.model],
  ["provider", "text", (e) => e.provider ?? null],
  ["status", "int", (e) => e.status],
  ["upstream_status", "text", (e) => e.upstreamStatus ?? null],
  ["billable", "boolean", (e) => e.billable],
  ["input_tokens", "int", (e) => e.inputTokens],
  ["output_tokens", "int", (e) => e.outputTokens],
  ["input_source", "token_source", (e) => e.inputSource],
  ["output_source", "token_source", (e) => e.outputSource],
  ["provider_input_tokens", "int", (e) => e.providerInputTokens ?? null],
  ["provider_output_tokens", "int", (e) => e.providerOutputTokens ?? null],
  ["cached_input_tokens", "int", (e) => e.cachedInputTokens],
  ["cache_write_tokens", "int", (e) => e.cacheWriteTokens],
  ["reasoning_tokens", "int", (e) => e.reasoningTokens],
  ["counted_input_tokens", "int", (e) => e.countedInputTokens ?? null],
  ["counted_output_tokens", "int", (e) => e.countedOutputTokens ?? null],
  ["figures", "jsonb", (e) => jsonOrNull(figuresToStore(e.figures, e))],
  ["reported_by", "text", (e) => arrayLiteral(e.reportedBy)],
  ["encoding", "text", (e) => e.encoding ?? null],
  ["rate_id", "uuid", (e) => e.rate?.id ?? null],
  ["price_id", "uuid", (e) => e.rate?.priceId ?? null],
  [
    "priced_by",
    "jsonb",
    (e) => (e.rate?.pricedBy ? (e.rate.pricedByJson ?? JSON.stringify(e.rate.pricedBy)) : null),
    ["priced_by_id", pricingRecordId("t.priced_by")],
  ],
  ["input_cost_per_token", "numeric", (e) => e.rate?.inputCostPerToken.toFixed() ?? null],
  ["output_cost_per_token", "numeric", (e) => e.rate?.outputCostPerToken.toFixed() ?? null],
  ["cached_input_cost_per_token", "numeric", (e) => (e.rate ? pricesOf(e.rate).cached_input.toFixed() : null)],
  ["cache_write_cost_per_token", "numeric", (e) => (e.rate ? pricesOf(e.rate).cache_write.toFixed() : null)],
  ["reasoning_cost_per_token", "numeric", (e) => (e.rate ? pricesOf(e.rate).reasoning.toFixed() : null)],
  ["request_fee", "numeric", (e) => e.rate?.requestFee?.toFixed() ?? null],
  ["cost", "numeric", (e) => e.cost.toFixed()],
  ["capability", "int", (e) => e.capability ?? null],
  ["local_date", "date", (e) => e.localDate],
  ["slot", "int", (e) => e.slot],
  ["level", "int", (e) => e.level],
  ["limit_flags", "text", (e) => arrayLiteral(e.limitFlags)],
  ["metadata_version", "int", (e) => e.metadataVersion ?? null],
  ["anomalies", "text", (e) => arrayLiteral(e.anomalies)],
  ["invoice_id", "uuid", (e) => e.invoiceId ?? null],
];
const AS_ARRAY = new Set(["limit_flags", "anomalies", "reported_by"]);
const STORED = EVENT_COLUMNS.filter(([, , , stored]) => stored !== null);
const storedName = ([c, , , stored]: Column) => stored?.[0] ?? c;
const storedValue = ([c, , , stored]: Column) => stored?.[1] ?? (AS_ARRAY.has(c) ? `t.${c}::text[]` : `t.${c}`);
const parameter = (name: string) => {
  const i = EVENT_COLUMNS.findIndex(([c]) => c === name);
  return `$${i + 1}::${EVENT_COLUMNS[i]![1]}[]`;
};
const routeParameters = ["route_id", "route_name", "service_id", "service_name"].map(parameter) as [
  string,
  string,
  string,
  string,
];

/** unnest() of `columns`' arrays as rows `t`, the arrays being the query's parameters in that order. */
const rowsOf = (columns: Column[]) =>
  `unnest(${columns.map(([, type], i) => `$${i + 1}::${type}[]`).join(", ")}) AS t(${columns.map(([c]) => c).join(", ")})`;

/** What merging a later report can change; the rest (owner, time, price, slot) stays as first stored. */
const MERGED = new Set([
  "route_id", // the call route: every route and service field
  "model",
  "provider",
  "status",
  "upstream_status",
  "billable",
  "input_tokens",
  "output_tokens",
  "cached_input_tokens",
  "cache_write_tokens",
  "reasoning_tokens",
  "input_source",
  "output_source",
  "provider_input_tokens",
  "provider_output_tokens",
  "counted_input_tokens",
  "counted_output_tokens",
  "figures",
  "reported_by",
  "encoding",
  "cost",
  "capability",
  "level",
  "limit_flags",
  "anomalies",
]);

/**
 * New calls and merged calls in one statement, with the pricing records and routes they name. A row whose id is stored is updated only when its id
 * is in the last parameter (the rows this transaction locked and merged into); any other conflict is
 * a call another writer stored meanwhile, left as it is and not returned, so the caller merges into it.
 */
export const UPSERT_EVENTS = `
  WITH records AS (${storePricingRecords(parameter("priced_by"))}), routes AS (${storeCallRoutes(routeParameters)})
  INSERT INTO usage_events (${STORED.map(storedName).join(", ")})
  SELECT ${STORED.map(storedValue).join(", ")}
  FROM ${rowsOf(EVENT_COLUMNS)}
  ON CONFLICT (id, occurred_at) DO UPDATE SET ${STORED.filter(([c]) => MERGED.has(c))
    .map(storedName)
    .map((c) => `${c} = EXCLUDED.${c}`)
    .join(", ")}
  WHERE usage_events.id = ANY($${EVENT_COLUMNS.length + 1}::text[])
  RETURNING id`;

/** The query parameters of UPSERT_EVENTS: one array of values per column, then the ids that may be updated. */
export const upsertParameters = (events: MeteredEvent[], mergedIds: string[]) => [
  ...EVENT_COLUMNS.map(([, , value]) => events.map(value)),
  mergedIds,
];
