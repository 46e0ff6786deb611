// Authorize's budget step: hold the most the call can cost, and make that a real bound. A call
// with no max-tokens field, or one asking for more output than the budget can pay for, is held at
// what fits, and the decision tells the gateway plugin to set that cap in the upstream request
// (`body_fields`), so the upstream cannot generate more than was held. A body Kong could not read
// cannot be capped, so such a call is refused. A budget set to `cap_output: off` keeps the request
// as sent: its calls are held at the consumer's limit or the unbounded default, and refused when
// that does not fit. A body that is not JSON is held the same way (no JSON API generates from it).
import type { Config } from "../config.ts";
import type { ResolvedPrice } from "../domain/consumer-pricing.ts";
import type { BudgetGuard } from "../budgets/budget-guard.ts";
import type { Budget } from "../budgets/budget.ts";
import { capFieldsToSet, type CapOutputSetting, type OutputCap } from "./output-cap.ts";
import type { RequestFacts } from "./request-facts.ts";

/** Time a metered log may take to arrive after the call ends, on top of the call's own timeout. */
const SETTLE_MARGIN_MS = 60_000;
/** A hold never outlives a day: an unsettled one (its log lost) must not block a budget for longer. */
const MAX_HOLD_MS = 24 * 3600_000;

export type BudgetHoldRequest = {
  budgets: Budget[];
  facts: RequestFacts;
  cap: Exclude<OutputCap, { kind: "invalid" }>;
  inputTokens: number;
  maxOutputTokens: number | null;
  rate: ResolvedPrice | undefined;
  requestId?: string;
  /** The longest the gateway lets the call run (the service's timeouts): the hold outlives it. */
  timeoutMs?: number;
  now: Date;
};

export type BudgetHold =
  | {
      kind: "denied";
      status: 402 | 403 | 429;
      reason: {
        code: "budget_exhausted" | "credits_exhausted" | "body_unreadable";
        message: string;
        [detail: string]: unknown;
      };
      checks: Record<string, unknown>;
    }
  | {
      kind: "passed";
      checks: Record<string, unknown>;
      release?: () => Promise<void>;
      bodyFields?: Record<string, number>;
    };

/** The budgets' joint setting: off only when every budget says off; a named field wins over auto. */
function capSetting(budgets: Budget[]): CapOutputSetting {
  const on = budgets.map((b) => b.capOutput).filter((s) => s !== "off");
  return on.find((s) => s !== "auto") ?? on[0] ?? "off";
}

export async function holdBudget(r: BudgetHoldRequest, guard: BudgetGuard, config: Config): Promise<BudgetHold> {
  const setting = capSetting(r.budgets);
  if (setting !== "off" && r.facts.body === "missing") {
    // the output of a body nobody could read cannot be capped: a hard budget refuses it rather than guess
    const message =
      "Kong could not read the request body (larger than its client_body_buffer_size), so its output cannot be capped under this budget; raise client_body_buffer_size, or set the budget's cap_output to off";
    return { kind: "denied", status: 403, reason: { code: "body_unreadable", message }, checks: {} };
  }
  const cappable = setting !== "off" && r.facts.json !== undefined;
  const asked = r.cap.kind === "bounded" ? r.cap.tokens : undefined;
  // every completion asked for (n) may be as long as the cap
  const perChoice = asked ?? r.maxOutputTokens ?? config.budgets.unboundedOutputTokens;
  const outcome = await guard.check({
    budgets: r.budgets,
    call: { inputTokens: r.inputTokens, outputTokens: perChoice * r.cap.choices },
    rate: r.rate,
    requestId: r.requestId,
    now: r.now,
    holdMs:
      r.timeoutMs === undefined
        ? undefined
        : Math.min(MAX_HOLD_MS, Math.max(config.budgets.holdTtlMs, r.timeoutMs + SETTLE_MARGIN_MS)),
    shrink: cappable ? { choices: r.cap.choices, minPerChoice: config.budgets.minOutputTokens } : undefined,
  });
  // a budget resets with its period (429: later); spent prepaid credit needs a top-up (402)
  if (outcome.kind === "denied")
    return {
      kind: "denied",
      status: outcome.reason.code === "credits_exhausted" ? 402 : 429,
      reason: outcome.reason,
      checks: outcome.checks,
    };
  const release = outcome.kind === "held" ? outcome.release : undefined;
  const held = outcome.outputTokens === undefined ? perChoice : outcome.outputTokens / r.cap.choices;
  if (!cappable || (asked !== undefined && held >= asked)) return { kind: "passed", checks: outcome.checks, release };
  const fields = capFieldsToSet(r.facts.json!, setting as Exclude<CapOutputSetting, "off">);
  const checks = {
    ...outcome.checks,
    output_cap: { fields, tokens: held, because: asked === undefined ? "no_max_tokens" : "budget" },
  };
  return { kind: "passed", checks, release, bodyFields: Object.fromEntries(fields.map((f) => [f, held])) };
}
