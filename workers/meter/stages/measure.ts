// The measure stage: a call record with its token figures and the capability it used, before the
// database is asked anything. Both kinds of report take this one path.
import type { CallRecord } from "../../../src/calls/call-record.ts";
import type { Config } from "../../../src/config.ts";
import { capabilityOf } from "../../../src/domain/limits.ts";
import type { Metrics } from "../../../src/ops/metrics.ts";
import { tokenize, type TokenCounts } from "./tokenize.ts";

export type Measured = { call: CallRecord; tokens: TokenCounts; capability?: number };

export function measure(call: CallRecord, config: Config, metrics?: Metrics): Measured {
  const m = config.metering;
  const t0 = performance.now();
  const tokens = tokenize(call, {
    fallback: m.defaultEncoding,
    budgetMs: m.countBudgetMs,
    providerFirst: m.providerBilled(call.model),
  });
  metrics?.tokenizeSeconds.observe((performance.now() - t0) / 1000);
  return { call, tokens, capability: capabilityOf([call.route.name, call.route.id, call.model], m.capabilityMap) };
}
