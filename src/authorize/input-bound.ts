// The input side of authorize's decision: how many input tokens the call is checked against
// max_input_tokens with, which load level it counts in, and how many its budget hold covers. The
// text's count is exact when counting finished; otherwise the text's bytes bound it. Images, audio
// and files add their providers' bounds. Where the request itself cannot bound the input (a body
// the gateway could not read, a part stored elsewhere), the hold covers the consumer's
// max_input_tokens, or AUTHORIZE_UNSIZED_INPUT_TOKENS without one, and the decision says so.
import type { Config } from "../config.ts";
import { overLimit } from "../domain/limits.ts";
import type { TextCount } from "./measure-request.ts";
import type { RequestFacts } from "./request-facts.ts";

/** Typical bytes of request text per token: the load level of text that was not counted. */
const BYTES_PER_TOKEN_ESTIMATE = 4;

type InputDeny = {
  code: "input_tokens_over_limit" | "input_tokens_uncounted";
  message: string;
  limit: number | null;
  actual?: number;
};

export type InputBound = {
  /** Tokens the load level is taken from. */
  forLevel: number;
  /** Input tokens the budget hold covers: never below what the provider can bill. */
  forHold: number;
  deny?: InputDeny;
  /** What the decision's checks show about the input. */
  checks: Record<string, unknown>;
};

function partsChecks(facts: RequestFacts): Record<string, unknown> {
  const { counts, tokens, unsized } = facts.parts;
  if (counts.image + counts.audio + counts.video + counts.file === 0) return {};
  const present = Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
  return { non_text: { ...present, tokens_bound: tokens, ...(unsized > 0 ? { unsized } : {}) } };
}

/** Why the text was not counted, or undefined when it was. */
function uncountedBecause(facts: RequestFacts, count: TextCount): string | undefined {
  if (facts.body === "text") return "not_json";
  if (count.overBudget) return "over_budget";
  if (facts.body === "json" && count.inputTokens === undefined) return "unknown_format";
  return undefined;
}

export function inputBoundOf(
  facts: RequestFacts,
  count: TextCount,
  maxInputTokens: number | null,
  config: Config,
): InputBound {
  const unsizedHold = maxInputTokens ?? config.authorize.unsizedInputTokens;
  if (facts.body === "missing") {
    return {
      forLevel: unsizedHold,
      forHold: unsizedHold,
      checks: { input_tokens: null, body: "missing", input_tokens_bound: unsizedHold },
    };
  }
  const nonText = facts.parts.tokens;
  const checks: Record<string, unknown> = { input_tokens: count.inputTokens ?? null, ...partsChecks(facts) };
  const why = uncountedBecause(facts, count);
  let known: number; // tokens the request itself bounds
  let forLevel: number;
  let deny: InputDeny | undefined;
  if (why === undefined) {
    known = (count.inputTokens ?? 0) + nonText;
    forLevel = known;
    if (overLimit(known, maxInputTokens)) {
      const media = nonText > 0 ? ` (${nonText} of them for images, audio or files, bounded)` : "";
      deny = {
        code: "input_tokens_over_limit",
        message: `${known} input tokens${media} exceed max_input_tokens ${maxInputTokens}`,
        limit: maxInputTokens,
        actual: known,
      };
    }
  } else {
    known = facts.textBoundTokens + nonText;
    forLevel = Math.ceil(facts.textBoundTokens / BYTES_PER_TOKEN_ESTIMATE) + nonText;
    Object.assign(checks, { token_count: why, input_tokens_estimate: forLevel });
    if (maxInputTokens !== null && known > maxInputTokens && config.authorize.countOverBudget === "deny") {
      const cause =
        why === "over_budget"
          ? `could not be counted within ${config.authorize.countBudgetMs} ms`
          : "are in a form the counter does not read";
      deny = {
        code: "input_tokens_uncounted",
        message: `input tokens ${cause} and the request may exceed max_input_tokens ${maxInputTokens}`,
        limit: maxInputTokens,
      };
    }
  }
  const forHold = facts.parts.unsized > 0 ? Math.max(known, unsizedHold) : known;
  checks.input_tokens_bound = forHold;
  return { forLevel, forHold, deny, checks };
}
