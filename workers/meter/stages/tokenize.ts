// Input and output tokens of one call: counted here from the logged payloads (tiktoken's counts),
// or the provider's figures from Kong's ai block when no payload was logged or counting ran past
// its time budget. Both are kept when both exist.
import type { TokenSource } from "../../../src/db/generated/enums.ts";
import type { Anomaly } from "../../../src/domain/anomalies.ts";
import { providerCounts, type AiBlock, type KongLog } from "../../../src/domain/kong-log.ts";
import { requestTokens } from "../../../src/tokens/chat.ts";
import { CountBudgetExceeded, counterFor, type TextCounter } from "../../../src/tokens/counter.ts";
import { encodingNameFor, type EncodingName } from "../../../src/tokens/encoding.ts";
import { completionOf, completionTokens } from "../../../src/tokens/response.ts";

export type TokenCounts = {
  input: number;
  output: number;
  inputSource: TokenSource;
  outputSource: TokenSource;
  providerInput?: number;
  providerOutput?: number;
  encoding?: EncodingName;
  anomalies: Anomaly[];
};

export type Payloads = { request: unknown; response: unknown };

/** A body logged as a JSON string is parsed; other strings (SSE, plain text) stay text. */
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

/**
 * Request and response bodies: from custom_fields_by_lua (`request.body`, `response.body`), or
 * from ai-proxy's logged payloads.
 */
export function payloadsOf(log: KongLog, proxy: AiBlock | undefined): Payloads {
  const present = (v: unknown) => (v === undefined || v === null || v === "" ? undefined : v);
  return {
    request: decodeBody(present(log.request.body) ?? present(proxy?.requestPayload)),
    response: decodeBody(present(log.response.body) ?? present(proxy?.responsePayload)),
  };
}

/** Our counts of the logged payloads; undefined for a direction with no countable payload. */
function countPayloads(enc: TextCounter, payloads: Payloads, o200k: boolean): { input?: number; output?: number } {
  const completion = completionOf(payloads.response);
  return {
    input: payloads.request === undefined ? undefined : requestTokens(enc, payloads.request, o200k),
    output: completion ? completionTokens(enc, completion) : undefined,
  };
}

export function tokenize(blocks: AiBlock[], model: string, payloads: Payloads, fallback: EncodingName, budgetMs: number): TokenCounts {
  const provider = providerCounts(blocks);
  const anomalies: Anomaly[] = provider.implausible ? ["provider_count_implausible"] : [];
  const encoding = encodingNameFor(model, fallback);
  let counted: { input?: number; output?: number } = {};
  try {
    counted = countPayloads(counterFor(encoding).within(budgetMs), payloads, encoding === "o200k_base");
  } catch (err) {
    if (!(err instanceof CountBudgetExceeded)) throw err;
    anomalies.push("token_count_over_budget");
  }
  const pick = (mine: number | undefined, theirs: number | undefined): [number, TokenSource] =>
    mine !== undefined ? [mine, "counted"] : theirs !== undefined ? [theirs, "provider"] : [0, "none"];
  const [input, inputSource] = pick(counted.input, provider.input);
  const [output, outputSource] = pick(counted.output, provider.output);
  return {
    input,
    output,
    inputSource,
    outputSource,
    providerInput: provider.input,
    providerOutput: provider.output,
    encoding: inputSource === "counted" || outputSource === "counted" ? encoding : undefined,
    anomalies,
  };
}
