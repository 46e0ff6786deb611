// A metering-and-billing CloudEvent as a Measured call. `kong.llm_request` carries Kong's token
// figure for one direction (prompt tokens in a "request" event, completion tokens in a "response"
// event); `kong.api_request` carries the call itself. Its time is the request's start; an event
// without one is dated when it was received.
import type { Config } from "../../../src/config.ts";
import type { Anomaly } from "../../../src/domain/anomalies.ts";
import { billedTokens, COUNT_FIRST, PROVIDER_FIRST, type SourceFigures } from "../../../src/domain/billing-policy.ts";
import { subjectRef, type CloudEvent } from "../../../src/domain/cloud-event.ts";
import { capabilityOf } from "../../../src/domain/limits.ts";
import { cloudEventReport } from "../../../src/domain/reports.ts";
import { storableText } from "../../../src/domain/storable.ts";
import type { Measured } from "./measured.ts";

const str = (v: unknown) => (typeof v === "string" && v !== "" ? storableText(v) : undefined);
/** A status as Kong reports it (integer, or a string in the docs' table); 0 when not reported. */
const status = (v: unknown) => {
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v) : NaN;
  return Number.isInteger(n) && n >= 0 && n <= 999 ? n : 0;
};

/** A call is billable unless a reported status says it failed (a status not reported is no evidence of failure). */
const succeeded = (s: number) => s === 0 || (s >= 200 && s < 400);

export function measureCloudEvent(event: CloudEvent, receivedAt: Date, config: Config): Measured {
  const d = event.data ?? {};
  const llm = event.type === "kong.llm_request";
  const responseStatus = status(llm ? d.http_status : d.response_http_status);
  const upstream = llm ? 0 : status(d.upstream_status);
  const figures: SourceFigures = {};
  if (llm && typeof d.tokens === "number") figures.kong_event = d.type === "request" ? { input: d.tokens } : { output: d.tokens };
  const routeName = str(d.route_name);
  const model = str(d.model) ?? (routeName ? config.metering.modelByRoute.get(routeName) : undefined) ?? "unknown";
  const billed = billedTokens(figures, config.metering.providerBilled(model) ? PROVIDER_FIRST : COUNT_FIRST);
  const billable = succeeded(responseStatus) && (upstream === 0 || (upstream >= 200 && upstream < 300));
  // tokens come in llm events: a kong.api_request is a call, LLM or not, and is not flagged for having none
  const anomalies: Anomaly[] = llm && billable && billed.inputSource === "none" && billed.outputSource === "none" ? ["no_token_count"] : [];
  return {
    consumerRef: subjectRef(event.subject),
    occurredAt: event.time ? new Date(event.time) : receivedAt,
    routeId: str(d.route_id),
    routeName,
    serviceId: str(d.service_id),
    serviceName: str(d.service_name),
    model,
    provider: str(d.provider),
    status: responseStatus,
    upstreamStatus: upstream ? String(upstream) : undefined,
    billable,
    tokens: { ...billed, figures, anomalies },
    capability: capabilityOf([routeName, str(d.route_id), model], config.metering.capabilityMap),
    reachedUpstream: true,
    reportedBy: cloudEventReport(event.source, event.id),
    consumerLabel: storableText(event.subject),
  };
}
