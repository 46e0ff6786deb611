// Which figure bills a call's tokens. By default our own count of a complete logged payload
// (tiktoken: exact for OpenAI models, an estimate for others), then the provider's reported
// figure, then Kong's metering event's. Model families whose tokenizer is not tiktoken's can be
// billed from the provider's figure first instead (METER_PROVIDER_BILLED_MODELS).
import type { TokenSource } from "../db/generated/enums.ts";
import type { UsageFigures } from "./provider-usage.ts";
import { fitParts, type TokenSplit } from "./token-types.ts";

export type BilledSource = Exclude<TokenSource, "none">;

export const COUNT_FIRST: readonly BilledSource[] = ["counted", "provider", "kong_event"];
export const PROVIDER_FIRST: readonly BilledSource[] = ["provider", "counted", "kong_event"];

/** A predicate for model names matching any pattern (`*` = any run of characters), case-insensitively. */
export function modelMatcher(patterns: readonly string[]): (model: string) => boolean {
  if (patterns.length === 0) return () => false;
  const escape = (p: string) => p.replace(/[.+?^${}()|[\]\\/]/g, "\\$&").replace(/\*/g, ".*");
  const re = new RegExp(`^(?:${patterns.map(escape).join("|")})$`, "i");
  return (model) => re.test(model);
}

/** The first source in `order` that has a figure, with the figure; none when no source has one. */
export function pick(order: readonly BilledSource[], figures: Partial<Record<BilledSource, number | undefined>>): [number, TokenSource] {
  for (const source of order) {
    const v = figures[source];
    if (v !== undefined) return [v, source];
  }
  return [0, "none"];
}

/** Token figures of one call as each source reported them (kept on the event: lineage, drift). */
export type SourceFigures = {
  /** Our count of the logged payloads; output includes the provider's reasoning tokens (never logged as text). */
  counted?: { input?: number; output?: number };
  /** The provider's figures, from Kong's ai log block or the logged response's own usage. */
  provider?: UsageFigures;
  /** Kong's metering-and-billing events (prompt tokens in `request`, completion tokens in `response`). */
  kong_event?: { input?: number; output?: number };
};

export type Billed = { tokens: TokenSplit; inputSource: TokenSource; outputSource: TokenSource };

/**
 * The billed tokens of a call from every source's figures: each total from the first source in
 * `order` that has it; the parts (cached input, cache writes, reasoning) from the provider's
 * details, cut to fit their totals.
 */
export function billedTokens(f: SourceFigures, order: readonly BilledSource[]): Billed {
  const [input, inputSource] = pick(order, { counted: f.counted?.input, provider: f.provider?.input, kong_event: f.kong_event?.input });
  const [output, outputSource] = pick(order, { counted: f.counted?.output, provider: f.provider?.output, kong_event: f.kong_event?.output });
  const p = f.provider ?? {};
  const tokens = fitParts({ input, output, cachedInput: p.cachedInput ?? 0, cacheWrite: p.cacheWrite ?? 0, reasoning: p.reasoning ?? 0 });
  return { tokens, inputSource, outputSource };
}
