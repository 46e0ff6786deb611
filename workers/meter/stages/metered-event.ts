import type { TokenSource } from "../../../src/db/generated/enums.ts";
import type { Decimal } from "../../../src/domain/money.ts";
import type { ResolvedPrice } from "../../../src/domain/consumer-pricing.ts";
import type { LimitFlag } from "../../../src/domain/limits.ts";
import type { Anomaly } from "../../../src/domain/anomalies.ts";
import type { SourceFigures } from "../../../src/domain/billing-policy.ts";

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
  /** Billed totals; the three parts below are inside them (see src/domain/token-types.ts). */
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  inputSource: TokenSource;
  outputSource: TokenSource;
  providerInputTokens?: number;
  providerOutputTokens?: number;
  countedInputTokens?: number;
  countedOutputTokens?: number;
  /** Every source's figures. */
  figures: SourceFigures;
  /** The reports this event was built from ("http-log", "ce:<source> <id>"). */
  reportedBy: string[];
  encoding?: string;
  /**
   * The price the call was priced with: its prices, the consumer rate or book price behind them, and how it was found.
   */
  rate?: Omit<ResolvedPrice, "pricedBy"> & { pricedBy?: ResolvedPrice["pricedBy"] };
  cost: Decimal;
  capability?: number;
  localDate: string;
  slot: number;
  level: number;
  /** Limits of the consumer's metadata the call broke (TDL is added by persist). */
  limitFlags: LimitFlag[];
  metadataVersion?: number;
  anomalies: Anomaly[];
  /** The invoice that will bill the call, stamped while its period is open (stages/stamp-invoices.ts). */
  invoiceId?: string;
  /** Not stored: a budget hold the log named, settled beside the event id (src/budgets). */
  holdId?: string;
};
