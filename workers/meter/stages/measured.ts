// What one report says about its call, whatever the source, before the database is asked anything.
import type { KongConsumerRef } from "../../../src/consumers/consumer.repository.ts";
import type { MeteredEvent } from "./metered-event.ts";
import type { TokenCounts } from "./tokenize.ts";

/** The event's descriptive fields, as the report gives them. */
type Described = Pick<
  MeteredEvent,
  "occurredAt" | "routeId" | "routeName" | "serviceId" | "serviceName" | "model" | "provider" | "status" | "upstreamStatus" | "billable" | "capability"
>;

export type Measured = Described & {
  consumerRef?: KongConsumerRef;
  tokens: TokenCounts;
  /** False for Kong's own answers (401, its 429): they never reached the provider. */
  reachedUpstream: boolean;
  /** The report's key (see src/domain/reports.ts). */
  reportedBy: string;
  /** Who the report names, for log lines. */
  consumerLabel?: string;
  /** A budget hold the gateway plugin named in the log, settled with the event's own id. */
  holdId?: string;
};
