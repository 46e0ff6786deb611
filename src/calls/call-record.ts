// One call as a report describes it, whatever the report: Kong's http-log entry or a
// metering-and-billing CloudEvent. Parsing turns every report into this record once
// (from-kong-log.ts, from-cloud-event.ts); every later stage of the meter reads only the record,
// never the raw report.
import type { KongConsumerRef } from "../domain/kong-log.ts";
import type { ProviderFigures } from "../domain/provider-usage.ts";

/** A logged body and where it was found: a log field (custom_fields_by_lua) or ai-proxy's payload. */
export type Payload = { body: unknown; from: "log" | "ai-proxy" };
export type Payloads = { request?: Payload; response?: Payload };

export type CallRecord = {
  /** The call's id: Kong's request id (shared by every report of the call) or the envelope's. */
  id: string;
  receivedAt: Date;
  /** The report's key (see src/domain/reports.ts): which report of the call this is. */
  reportedBy: string;
  /** Who Kong authenticated; absent when the report names nobody. */
  owner?: KongConsumerRef;
  /** Who the report names, for log lines and dead letters. */
  ownerLabel?: string;
  occurredAt: Date;
  /** The status the caller got; 0 when the report does not say. */
  status: number;
  upstreamStatus?: string;
  /** Whether the upstream answered successfully (only those calls are billed). */
  billable: boolean;
  /** False for Kong's own answers (401, its 429): they never reached the provider. */
  reachedUpstream: boolean;
  route: { id?: string; name?: string };
  service: { id?: string; name?: string };
  /** The model the report names, else the route's configured model, else "unknown". */
  model: string;
  provider?: string;
  /** The request and response bodies, where the report carries them. */
  payloads: Payloads;
  /** The provider's figures (Kong's AI blocks, the logged response's usage). */
  providerFigures: ProviderFigures;
  /** Kong's metering events' figure for one side of the call. */
  kongFigures?: { input?: number; output?: number };
  /** Whether a billable call with no token figure at all is an anomaly (a plain API-request event is not). */
  expectsTokens: boolean;
  /** A budget hold the gateway plugin named, settled with the call's id. */
  holdId?: string;
};

/** What reading a report needs from the configuration. */
export type ReadOptions = {
  /** Where a log entry holds the bodies (METER_REQUEST_BODY_PATHS, METER_RESPONSE_BODY_PATHS). */
  bodyPaths: { request: readonly string[]; response: readonly string[] };
  /** A route's model, for reports that name none (METER_MODEL_BY_ROUTE). */
  modelByRoute: ReadonlyMap<string, string>;
};
