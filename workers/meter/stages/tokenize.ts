// Token figures of one call from every source the log carries: our count of the logged payloads
// (tiktoken), and the provider's figures (Kong's ai block, the logged response's usage). The
// billed tokens follow the billing policy (src/domain/billing-policy.ts); every figure is kept.
import type { Anomaly } from "../../../src/domain/anomalies.ts";
import { billedTokens, COUNT_FIRST, lowerBoundAnomalies, PROVIDER_FIRST, type Billed, type CountedFigures, type SourceFigures } from "../../../src/domain/billing-policy.ts";
import { DEFAULT_BODY_PATHS, providerCounts, type AiBlock, type BodyPaths, type KongLog } from "../../../src/domain/kong-log.ts";
import { usageFigures } from "../../../src/domain/provider-usage.ts";
import { requestTokens } from "../../../src/tokens/chat.ts";
import { CountBudgetExceeded, counterFor, type TextCounter } from "../../../src/tokens/counter.ts";
import { encodingNameFor, type EncodingName } from "../../../src/tokens/encoding.ts";
import { completionOf, completionTokens, responseUsageOf } from "../../../src/tokens/response.ts";
import { requestCoverage } from "../../../src/tokens/request-coverage.ts";
import { isJsonObject } from "../../../src/domain/json.ts";

export type TokenCounts = Billed & { figures: SourceFigures; encoding?: EncodingName; anomalies: Anomaly[] };

/** A logged body and where it was found: a log field (custom_fields_by_lua) or ai-proxy's payload. */
export type Payload = { body: unknown; from: "log" | "ai-proxy" };
export type Payloads = { request?: Payload; response?: Payload };

/** A body logged as a JSON string is parsed; other strings (SSE, plain text, a cut-off JSON) stay text. */
function decodeBody(v: unknown): unknown {
  if (typeof v !== "string") return v;
  const t = v.trimStart();
  if (t.startsWith("{") || t.startsWith("[")) {
    try {
      return JSON.parse(v);
    } catch {
      return v;
    }
  }
  return v;
}

const present = (v: unknown) => (v === undefined || v === null || v === "" ? undefined : v);

function at(entry: Record<string, unknown>, path: string): unknown {
  let v: unknown = entry;
  for (const key of path.split(".")) {
    if (typeof v !== "object" || v === null || Array.isArray(v) || !Object.hasOwn(v, key)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function firstAt(log: KongLog, paths: readonly string[], fallback: unknown): Payload | undefined {
  for (const path of paths) {
    const v = present(at(log, path));
    if (v !== undefined) return { body: decodeBody(v), from: "log" };
  }
  const v = present(fallback);
  return v === undefined ? undefined : { body: decodeBody(v), from: "ai-proxy" };
}

/** Request and response bodies: at the first configured path that holds one, else ai-proxy's logged payloads. */
export function payloadsOf(log: KongLog, proxy: AiBlock | undefined, paths: BodyPaths = DEFAULT_BODY_PATHS): Payloads {
  return {
    request: firstAt(log, paths.request, proxy?.requestPayload),
    response: firstAt(log, paths.response, proxy?.responsePayload),
  };
}

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
  const completion = payloads.response ? completionOf(payloads.response.body, payloads.response.from === "ai-proxy") : undefined;
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
  /** Only a billable call's missing figures are anomalies. */
  billable?: boolean;
};

export function tokenize(blocks: AiBlock[], model: string, payloads: Payloads, o: TokenizeOptions): TokenCounts {
  const { implausible, ...provider } = providerCounts(blocks, usageFigures(responseUsageOf(payloads.response?.body)));
  const anomalies: Anomaly[] = implausible ? ["provider_count_implausible"] : [];
  const encoding = encodingNameFor(model, o.fallback);
  let counted: Counted = { requestIncomplete: false, responseIncomplete: false };
  try {
    counted = countPayloads(counterFor(encoding).within(o.budgetMs), payloads, model, encoding === "o200k_base");
  } catch (err) {
    if (!(err instanceof CountBudgetExceeded)) throw err;
    anomalies.push("token_count_over_budget");
  }
  if (o.billable !== false) {
    if (counted.requestIncomplete) anomalies.push("request_payload_incomplete");
    if (counted.responseIncomplete) anomalies.push("response_payload_incomplete");
  }
  // reasoning tokens are never in the logged text: our output count adds the provider's
  const { requestIncomplete: _r, responseIncomplete: _s, ...seen } = counted;
  const output = seen.output === undefined ? undefined : seen.output + (provider.reasoning ?? 0);
  const figures: SourceFigures = {
    ...(seen.input !== undefined || output !== undefined ? { counted: defined({ ...seen, output }) } : {}),
    ...(Object.keys(provider).length ? { provider } : {}),
  };
  const billed = billedTokens(figures, o.providerFirst ? PROVIDER_FIRST : COUNT_FIRST);
  if (o.billable !== false && billed.inputSource === "none" && billed.outputSource === "none") anomalies.push("no_token_count");
  if (o.billable !== false) anomalies.push(...lowerBoundAnomalies(figures, billed));
  const usedCount = billed.inputSource === "counted" || billed.outputSource === "counted";
  return { ...billed, figures, encoding: usedCount ? encoding : undefined, anomalies };
}

function defined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
