// Which figure bills a call's tokens. For models whose tokenizer tiktoken has (OpenAI's), our own
// count of a complete logged payload, then the provider's reported figure, then Kong's metering
// event's; for every other model the provider's figure first, our count kept as a check
// (METER_COUNT_BILLED_MODELS, METER_PROVIDER_BILLED_MODELS). Where our count could not see every
// part the provider bills (images, audio, files, fields the recipe does not model, Kong's
// reconstruction of a stream), it is only a lower bound: that side bills the provider's figure,
// then Kong's, and only without either our count plus the parts' published estimate, flagged.
import type { UsageFigures } from "./provider-usage.ts";
import { fitParts, type TokenSource, type TokenSplit } from "./token-types.ts";

export type BilledSource = Exclude<TokenSource, "none">;

export const COUNT_FIRST: readonly BilledSource[] = ["counted", "provider", "kong_event"];
export const PROVIDER_FIRST: readonly BilledSource[] = ["provider", "counted", "kong_event"];

/** A predicate for model names matching any pattern (`*` = any run of characters), case-insensitively. */
export function modelMatcher(patterns: readonly string[]): (model: string) => boolean {
  if (patterns.length === 0) return () => false;
  const escapePattern = (p: string) => p.replace(/[.+?^${}()|[\]\\/]/g, "\\$&").replace(/\*/g, ".*");
  const re = new RegExp(`^(?:${patterns.map(escapePattern).join("|")})$`, "i");
  return (model) => re.test(model);
}

/** The first source in `order` that has a figure, with the figure; none when no source has one. */
function pick(
  order: readonly BilledSource[],
  figures: Partial<Record<BilledSource, number | undefined>>,
): [number, TokenSource] {
  for (const source of order) {
    const v = figures[source];
    if (v !== undefined) return [v, source];
  }
  return [0, "none"];
}

/** Token figures of one call as each source reported them (kept on the event: lineage, drift). */
export type SourceFigures = {
  /** Our count of the logged payloads; output includes the provider's reasoning tokens (never logged as text). */
  counted?: CountedFigures;
  /** The provider's figures, from Kong's ai log block or the logged response's own usage. */
  provider?: UsageFigures;
  /** Kong's metering-and-billing events (prompt tokens in `request`, completion tokens in `response`). */
  kong_event?: { input?: number; output?: number };
};

export type CountedFigures = {
  input?: number;
  output?: number;
  /** Our count saw less than the provider bills on that side: it is a lower bound. */
  input_lower_bound?: true;
  output_lower_bound?: true;
  /** The published estimate of the request's parts our count cannot see (images by formula, media by bytes). */
  input_parts_estimate?: number;
};

export type Billed = { tokens: TokenSplit; inputSource: TokenSource; outputSource: TokenSource };

/** The order for a side our count only bounds from below: whoever saw the whole call first. */
const LOWER_BOUND_FIRST: readonly BilledSource[] = ["provider", "kong_event", "counted"];

/**
 * The billed tokens of a call from every source's figures: each total from the first source in
 * `order` that has it; the parts (cached input, cache writes, reasoning) from the provider's
 * details, cut to fit their totals.
 */
export function billedTokens(f: SourceFigures, order: readonly BilledSource[]): Billed {
  const c = f.counted;
  const countedInput =
    c?.input === undefined ? undefined : c.input + (c.input_lower_bound ? (c.input_parts_estimate ?? 0) : 0);
  const [input, inputSource] = pick(c?.input_lower_bound ? LOWER_BOUND_FIRST : order, {
    counted: countedInput,
    provider: f.provider?.input,
    kong_event: f.kong_event?.input,
  });
  const [output, outputSource] = pick(c?.output_lower_bound ? LOWER_BOUND_FIRST : order, {
    counted: c?.output,
    provider: f.provider?.output,
    kong_event: f.kong_event?.output,
  });
  const p = f.provider ?? {};
  const tokens = fitParts({
    input,
    output,
    cachedInput: p.cachedInput ?? 0,
    cacheWrite: p.cacheWrite ?? 0,
    reasoning: p.reasoning ?? 0,
  });
  return { tokens, inputSource, outputSource };
}

/**
 * What the figures say about a count that was only a lower bound: billed from it (no one else
 * reported that side), or another source reporting less than our count saw (drift).
 */
export function lowerBoundAnomalies(
  f: SourceFigures,
  billed: Billed,
): Array<"billed_from_lower_bound" | "reported_below_count"> {
  const c = f.counted;
  if (!c) return [];
  const out = new Set<"billed_from_lower_bound" | "reported_below_count">();
  for (const side of ["input", "output"] as const) {
    if (!c[`${side}_lower_bound`]) continue;
    const seen = c[side];
    if (billed[`${side}Source`] === "counted") out.add("billed_from_lower_bound");
    else if (seen !== undefined && billed.tokens[side] < seen) out.add("reported_below_count");
  }
  return [...out];
}
