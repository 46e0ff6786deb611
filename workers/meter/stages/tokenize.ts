// Token figures of one call from every source its record carries: our count of the logged payloads
// (tiktoken), the provider's figures (Kong's ai block, the logged response's usage) and Kong's
// metering events' figure. The billed tokens follow the billing policy
// (src/domain/billing-policy.ts); every figure is kept.
import type { Anomaly } from "../../../src/domain/anomalies.ts";
import {
  billedTokens,
  COUNT_FIRST,
  lowerBoundAnomalies,
  PROVIDER_FIRST,
  type Billed,
  type CountedFigures,
  type SourceFigures,
} from "../../../src/domain/billing-policy.ts";
import type { CallRecord, Payloads } from "../../../src/calls/call-record.ts";
import { requestTokens } from "../../../src/tokens/chat.ts";
import { CountBudgetExceeded, counterFor, type TextCounter } from "../../../src/tokens/counter.ts";
import { encodingNameFor, type EncodingName } from "../../../src/tokens/encoding.ts";
import { completionOf, completionTokens } from "../../../src/tokens/response.ts";
import { requestCoverage } from "../../../src/tokens/request-coverage.ts";
import { isJsonObject } from "../../../src/domain/json.ts";

export type TokenCounts = Billed & { figures: SourceFigures; encoding?: EncodingName; anomalies: Anomaly[] };

type Counted = CountedFigures & { requestIncomplete: boolean; responseIncomplete: boolean };

/**
 * Our counts of the logged payloads. A payload that is not a complete request or response of a
 * known format (cut off by Kong's size limits) is not counted at all, and Kong's placeholders are
 * no payload. A count that cannot see every part the provider bills says it is a lower bound.
 */
function countPayloads(enc: TextCounter, payloads: Payloads, model: string, o200k: boolean): Counted {
  const req = payloads.request;
  const input = req && typeof req.body === "object" ? requestTokens(enc, req.body, o200k) : undefined;
  const coverage = input !== undefined && isJsonObject(req!.body) ? requestCoverage(req!.body, model) : undefined;
  const completion = payloads.response
    ? completionOf(payloads.response.body, payloads.response.from === "ai-proxy")
    : undefined;
  const output = completion?.complete ? completionTokens(enc, completion) : undefined;
  return {
    input,
    output,
    ...(coverage?.lowerBound ? { input_lower_bound: true as const, input_parts_estimate: coverage.partsEstimate } : {}),
    ...(output !== undefined && completion?.lowerBound ? { output_lower_bound: true as const } : {}),
    requestIncomplete: req !== undefined && input === undefined,
    responseIncomplete: completion !== undefined && !completion.complete,
  };
}

export type TokenizeOptions = {
  fallback: EncodingName;
  budgetMs: number;
  /** Bill from the provider's figure first (METER_PROVIDER_BILLED_MODELS matched the model). */
  providerFirst?: boolean;
};

/** What counting reads of a call record. */
export type Countable = Pick<
  CallRecord,
  "model" | "payloads" | "providerFigures" | "kongFigures" | "billable" | "expectsTokens"
>;

export function tokenize(call: Countable, o: TokenizeOptions): TokenCounts {
  const { implausible, ...provider } = call.providerFigures;
  const anomalies: Anomaly[] = implausible ? ["provider_count_implausible"] : [];
  const encoding = encodingNameFor(call.model, o.fallback);
  let counted: Counted = { requestIncomplete: false, responseIncomplete: false };
  try {
    if (call.payloads.request || call.payloads.response)
      counted = countPayloads(
        counterFor(encoding).within(o.budgetMs),
        call.payloads,
        call.model,
        encoding === "o200k_base",
      );
  } catch (err) {
    if (!(err instanceof CountBudgetExceeded)) throw err;
    anomalies.push("token_count_over_budget");
  }
  // only a billable call's missing figures are anomalies
  if (call.billable) {
    if (counted.requestIncomplete) anomalies.push("request_payload_incomplete");
    if (counted.responseIncomplete) anomalies.push("response_payload_incomplete");
  }
  // reasoning tokens are never in the logged text: our output count adds the provider's
  const { requestIncomplete: _r, responseIncomplete: _s, ...seen } = counted;
  const output = seen.output === undefined ? undefined : seen.output + (provider.reasoning ?? 0);
  const figures: SourceFigures = {
    ...(seen.input !== undefined || output !== undefined ? { counted: defined({ ...seen, output }) } : {}),
    ...(Object.keys(provider).length ? { provider } : {}),
    ...(call.kongFigures ? { kong_event: call.kongFigures } : {}),
  };
  const billed = billedTokens(figures, o.providerFirst ? PROVIDER_FIRST : COUNT_FIRST);
  if (call.billable && call.expectsTokens && billed.inputSource === "none" && billed.outputSource === "none")
    anomalies.push("no_token_count");
  if (call.billable) anomalies.push(...lowerBoundAnomalies(figures, billed));
  const usedCount = billed.inputSource === "counted" || billed.outputSource === "counted";
  return { ...billed, figures, encoding: usedCount ? encoding : undefined, anomalies };
}

function defined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
