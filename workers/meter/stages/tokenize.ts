// Input and output tokens of one call: counted here with tiktoken from the logged payloads, or the
// provider's figures from Kong's ai block when no payload was logged. Both are kept when both exist.
import type { TokenSource } from "../../../src/db/generated/enums.ts";
import { providerCounts, type AiBlock, type KongLog } from "../../../src/domain/kong-log.ts";
import { requestTokens } from "../../../src/tokens/chat.ts";
import { counterFor } from "../../../src/tokens/counter.ts";
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

export function tokenize(blocks: AiBlock[], model: string, payloads: Payloads, fallback: EncodingName): TokenCounts {
  const provider = providerCounts(blocks);
  const encoding = encodingNameFor(model, fallback);
  const enc = counterFor(encoding);
  const counted = {
    input: payloads.request === undefined ? undefined : requestTokens(enc, payloads.request, encoding === "o200k_base"),
    output: (() => {
      const c = completionOf(payloads.response);
      return c ? completionTokens(enc, c) : undefined;
    })(),
  };
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
  };
}
