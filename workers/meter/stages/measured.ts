// What one report says about its call, whatever the source, before the database is asked anything.
import type { KongConsumerRef } from "../../../src/consumers/consumer.repository.ts";
import type { TokenCounts } from "./tokenize.ts";

export type Measured = {
  consumerRef?: KongConsumerRef;
  occurredAt: Date;
  routeId?: string;
  routeName?: string;
  serviceId?: string;
  serviceName?: string;
  model: string;
  provider?: string;
  status: number;
  upstreamStatus?: string;
  billable: boolean;
  tokens: TokenCounts;
  capability?: number;
  /** False for Kong's own answers (401, its 429): they never reached the provider. */
  reachedUpstream: boolean;
  /** The report's key (see src/domain/reports.ts). */
  reportedBy: string;
  /** Who the report names, for log lines. */
  consumerLabel?: string;
};
