// A metering-and-billing CloudEvent as a call record. `kong.llm_request` carries Kong's token figure
// for one side (prompt tokens in a "request" event, completion tokens in a "response" event);
// `kong.api_request` carries the call itself. Its time is the request's start; an event without
// one is dated when it was received.
import { subjectRef, type CloudEvent } from "../domain/cloud-event.ts";
import { modelOrRoute } from "../domain/kong-log.ts";
import { cloudEventReport } from "../domain/reports.ts";
import { storableText } from "../domain/storable.ts";
import type { CallRecord, ReadOptions } from "./call-record.ts";

const str = (v: unknown) => (typeof v === "string" && v !== "" ? storableText(v) : undefined);
/** A status as Kong reports it (integer, or a string in the docs' table); 0 when not reported. */
const status = (v: unknown) => {
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v) : NaN;
  return Number.isInteger(n) && n >= 0 && n <= 999 ? n : 0;
};

/** A call is billable unless a reported status says it failed (a status not reported is no evidence of failure). */
const succeeded = (s: number) => s === 0 || (s >= 200 && s < 400);

export function callFromCloudEvent(event: CloudEvent, id: string, receivedAt: Date, o: ReadOptions): CallRecord {
  const d = event.data ?? {};
  const llm = event.type === "kong.llm_request";
  const responseStatus = status(llm ? d.http_status : d.response_http_status);
  const upstream = llm ? 0 : status(d.upstream_status);
  const route = { id: str(d.route_id), name: str(d.route_name) };
  const tokens = llm && typeof d.tokens === "number" ? d.tokens : undefined;
  return {
    id,
    receivedAt,
    reportedBy: cloudEventReport(event.source, event.id),
    owner: subjectRef(event.subject),
    ownerLabel: storableText(event.subject),
    occurredAt: event.time ? new Date(event.time) : receivedAt,
    status: responseStatus,
    upstreamStatus: upstream ? String(upstream) : undefined,
    billable: succeeded(responseStatus) && (upstream === 0 || (upstream >= 200 && upstream < 300)),
    reachedUpstream: true,
    route,
    service: { id: str(d.service_id), name: str(d.service_name) },
    model: modelOrRoute(str(d.model), route, o.modelByRoute),
    provider: str(d.provider),
    payloads: {},
    providerFigures: { implausible: false },
    kongFigures: tokens === undefined ? undefined : d.type === "request" ? { input: tokens } : { output: tokens },
    // a kong.api_request is a call, LLM or not: it is not flagged for carrying no tokens
    expectsTokens: llm,
  };
}
