// A provider's `usage` object, in whichever shape it reports, as token figures of the five types
// (see token-types.ts):
// - OpenAI chat/completions/embeddings: prompt_tokens, completion_tokens, with
//   prompt_tokens_details.cached_tokens and completion_tokens_details.reasoning_tokens inside them.
// - OpenAI Responses API: input_tokens, output_tokens, input_tokens_details.cached_tokens,
//   output_tokens_details.reasoning_tokens, also inside the totals.
// - Anthropic: input_tokens EXCLUDES cache_read_input_tokens and cache_creation_input_tokens, so
//   the input total is their sum.
// - Kong 3.7 logged the singular prompt_token / completion_token.
import { MAX_TOKENS_PER_CALL, plausibleCount } from "./storable.ts";
import { asJsonObject } from "./json.ts";

export type UsageFigures = {
  input?: number;
  output?: number;
  cachedInput?: number;
  cacheWrite?: number;
  reasoning?: number;
};
const FIGURE_KEYS = ["input", "output", "cachedInput", "cacheWrite", "reasoning"] as const;

type Json = Record<string, unknown>;
const obj = asJsonObject;
/** A count as reported: rounded when finite; a non-finite value is kept so that it is flagged, not dropped. */
const num = (v: unknown): number | undefined =>
  typeof v !== "number" ? undefined : Number.isFinite(v) ? Math.round(v) : v;

/** Only the keys that were reported. */
function defined(f: UsageFigures): UsageFigures {
  return Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined)) as UsageFigures;
}

export function usageFigures(usage: Json | undefined): UsageFigures {
  if (!usage) return {};
  if ("cache_read_input_tokens" in usage || "cache_creation_input_tokens" in usage) {
    const base = num(usage.input_tokens);
    const read = num(usage.cache_read_input_tokens) ?? 0;
    const write = num(usage.cache_creation_input_tokens) ?? 0;
    return defined({
      input: base === undefined ? undefined : base + read + write,
      output: num(usage.output_tokens),
      cachedInput: read,
      cacheWrite: write,
    });
  }
  const inDetails = obj(usage.prompt_tokens_details) ?? obj(usage.input_tokens_details);
  const outDetails = obj(usage.completion_tokens_details) ?? obj(usage.output_tokens_details);
  return defined({
    input: num(usage.prompt_tokens) ?? num(usage.prompt_token) ?? num(usage.input_tokens),
    output: num(usage.completion_tokens) ?? num(usage.completion_token) ?? num(usage.output_tokens),
    cachedInput: num(inDetails?.cached_tokens),
    reasoning: num(outDetails?.reasoning_tokens),
  });
}

export type ProviderFigures = UsageFigures & {
  /** A figure was reported that no call can have (negative, fractional, beyond MAX_TOKENS_PER_CALL). */
  implausible: boolean;
};

/**
 * The figures of several usage reports of DIFFERENT calls summed (one entry can carry several AI
 * plugins' blocks), then completed field by field from `fallback`, a report of the same call. A
 * field with an implausible figure has none: it is flagged, never billed, never stored.
 */
export function providerFigures(reports: UsageFigures[], fallback: UsageFigures = {}): ProviderFigures {
  let implausible = false;
  const out: ProviderFigures = { implausible: false };
  for (const key of FIGURE_KEYS) {
    const values = reports.map((r) => r[key]).filter((v): v is number => v !== undefined);
    const candidates = values.length ? [values] : fallback[key] !== undefined ? [[fallback[key]!]] : [];
    for (const vs of candidates) {
      const total = vs.reduce((a, b) => a + b, 0);
      if (vs.every(plausibleCount) && total <= MAX_TOKENS_PER_CALL) out[key] = total;
      else implausible = true;
    }
  }
  out.implausible = implausible;
  return out;
}
