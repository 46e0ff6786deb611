import type { TokenSource } from "../../../src/db/generated/enums.ts";
import type { Decimal } from "../../../src/domain/money.ts";
import type { Rate } from "../../../src/domain/pricing.ts";
import type { LimitFlag } from "../../../src/domain/limits.ts";
import type { Anomaly } from "../../../src/domain/anomalies.ts";

/** One usage event as the meter writes it. */
export type MeteredEvent = {
  id: string;
  consumerId: string | null;
  occurredAt: Date;
  receivedAt: Date;
  routeId?: string;
  routeName?: string;
  serviceId?: string;
  serviceName?: string;
  model: string;
  provider?: string;
  status: number;
  upstreamStatus?: string;
  billable: boolean;
  inputTokens: number;
  outputTokens: number;
  inputSource: TokenSource;
  outputSource: TokenSource;
  providerInputTokens?: number;
  providerOutputTokens?: number;
  encoding?: string;
  rate?: Rate;
  cost: Decimal;
  capability?: number;
  localDate: string;
  slot: number;
  level: number;
  /** Limits of the consumer's metadata the call broke (TDL is added by persist). */
  limitFlags: LimitFlag[];
  metadataVersion?: number;
  anomalies: Anomaly[];
};
