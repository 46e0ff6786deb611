// The token types a call is billed by. A call's input and output are totals; cached input and
// cache writes are parts of its input, reasoning is part of its output (OpenAI counts reasoning
// inside completion tokens). Billing splits the totals into five disjoint quantities, so no token
// is priced twice and the plain input and output lines hold only what the other types do not.

export const TOKEN_TYPES = ["input", "cached_input", "cache_write", "output", "reasoning"] as const;

/**
 * Where a side's billed tokens came from (stored as the token_source enum): counted here from the
 * logged payload, the provider's figure, Kong's metering event, or none of them.
 */
export type TokenSource = "counted" | "provider" | "kong_event" | "none";
export type TokenType = (typeof TOKEN_TYPES)[number];

/** A type's parent: the price it takes when the rate sets none of its own. */
export const PARENT: Record<TokenType, "input" | "output"> = {
  input: "input",
  cached_input: "input",
  cache_write: "input",
  output: "output",
  reasoning: "output",
};

/** Billed tokens of one call: two totals and the three parts of them. */
export type TokenSplit = { input: number; output: number; cachedInput: number; cacheWrite: number; reasoning: number };

export const NO_TOKENS: TokenSplit = { input: 0, output: 0, cachedInput: 0, cacheWrite: 0, reasoning: 0 };

/** The five disjoint quantities billed. */
export function quantitiesOf(t: TokenSplit): Record<TokenType, number> {
  return {
    input: t.input - t.cachedInput - t.cacheWrite,
    cached_input: t.cachedInput,
    cache_write: t.cacheWrite,
    output: t.output - t.reasoning,
    reasoning: t.reasoning,
  };
}

/**
 * Parts that fit their totals: parts the totals cannot hold are cut to what fits (cached input
 * first, then cache writes), so quantities are never negative whatever the sources said.
 */
export function fitParts(t: TokenSplit): TokenSplit {
  const cachedInput = Math.min(t.cachedInput, t.input);
  const cacheWrite = Math.min(t.cacheWrite, t.input - cachedInput);
  return { ...t, cachedInput, cacheWrite, reasoning: Math.min(t.reasoning, t.output) };
}
