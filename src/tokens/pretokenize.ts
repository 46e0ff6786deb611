// tiktoken's pre-tokenizer patterns, translated from Rust regex syntax to an equivalent JavaScript
// RegExp. Two differences need care:
// - Rust's `\s` is Unicode White_Space; JavaScript's also matches U+FEFF and misses U+0085.
// - JavaScript (Node 20) has no inline `(?i:...)`; the contractions are spelled out case by case.
// Both engines are leftmost-first backtracking engines here, so the same pattern splits the same.

const WS = "\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
const CONTRACTIONS = "'(?:[sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])";

/** Rust regex syntax (as tiktoken's pat_str uses it) -> JavaScript source for a `gu` RegExp. */
export function toJsPattern(patStr: string): string {
  return patStr
    .replaceAll("(?i:'s|'t|'re|'ve|'m|'ll|'d)", `(?:${CONTRACTIONS})`)
    .replaceAll("[^\\s", `[^${WS}`)
    .replaceAll("\\s", `[${WS}]`)
    .replaceAll("\\S", `[^${WS}]`);
}

export function pretokenizer(patStr: string): RegExp {
  return new RegExp(toJsPattern(patStr), "gu");
}
