// The decision the gateway asks for before proxying a call. Checks run cheapest first and the TDL
// check, the only one that counts, runs last, so a call denied for another reason uses no slot.
import type { Config } from "../config.ts";
import { capabilityGranted, capabilityOf, cellLimit, overLimit, type DenyCode } from "../domain/limits.ts";
import { resolvePrice } from "../domain/consumer-pricing.ts";
import { levelOf, localSlotOf, SLOT_NAMES } from "../domain/tdl.ts";
import { inputBoundOf } from "./input-bound.ts";
import type { MeasurePool } from "./measure-pool.ts";
import { requestFacts } from "./request-facts.ts";
import { holdBudget } from "./budget-hold.ts";
import type { GatewayConsumer, MetadataCache } from "./metadata-cache.ts";
import type { TdlCounter } from "./tdl-counter.ts";
import { userHeaders } from "./user-headers.ts";
import type { BudgetGuard } from "../budgets/budget-guard.ts";
import { isCredit } from "../budgets/budget.ts";

export type AuthorizeRequest = {
  /** Bytes of the HTTP request that carried this (bounds the body's size). */
  sizeBytes?: number;
  consumer: { id?: string; username?: string; custom_id?: string };
  route?: { id?: string; name?: string };
  model?: string;
  /** The client's request body: the raw text Kong read, or already parsed JSON; null when Kong could not read it. */
  body?: unknown;
  /** Kong's request id: the metered log carries it, and settles this call's budget hold by it. */
  request_id?: string;
  /** The longest the gateway lets the call run (its service's timeouts): a budget hold outlives it. */
  timeout_ms?: number;
};

type DenyReason = {
  code:
    | DenyCode
    | "consumer_not_configured"
    | "input_tokens_uncounted"
    | "max_tokens_invalid"
    | "budget_exhausted"
    | "credits_exhausted"
    | "body_unreadable"
    | "model_unpriced";
  message: string;
  [detail: string]: unknown;
};

export type Decision = {
  allow: boolean;
  /**
   * What the gateway answers a denied call with: 403 for a permission or token limit, 429 for a slot limit or budget,
   * 402 for spent prepaid credit.
   */
  status: 200 | 402 | 403 | 429;
  reason: DenyReason | null;
  consumer_id: string | null;
  metadata_version: number | null;
  checks: Record<string, unknown>;
  headers: Record<string, string>;
  /** Fields the gateway sets in the upstream request body (dotted paths): the output cap a budget can pay for. */
  body_fields?: Record<string, number>;
};

export type AuthorizeDeps = {
  config: Config;
  cache: MetadataCache;
  counter: TdlCounter;
  measurer: MeasurePool;
  /** Absent: budgets are not checked (tools that authorize without Redis). */
  budgets?: BudgetGuard;
  now?: () => Date;
};

const deny = (
  status: 402 | 403 | 429,
  reason: DenyReason,
  base: Omit<Decision, "allow" | "status" | "reason">,
): Decision => ({
  allow: false,
  status,
  reason,
  ...base,
});

function unconfigured(config: Config, consumer: GatewayConsumer | null): Decision {
  const base = { consumer_id: consumer?.id ?? null, metadata_version: null, checks: {}, headers: {} };
  if (config.authorize.unconfigured === "allow") return { allow: true, status: 200, reason: null, ...base };
  return deny(403, { code: "consumer_not_configured", message: "the consumer has no metadata in tokenmeter" }, base);
}

export async function authorize(input: AuthorizeRequest, deps: AuthorizeDeps): Promise<Decision> {
  const { config } = deps;
  const consumer = await deps.cache.lookup({
    kongId: input.consumer.id || undefined,
    username: input.consumer.username || undefined,
    customId: input.consumer.custom_id || undefined,
  });
  if (!consumer?.configured) return unconfigured(config, consumer);

  const now = deps.now?.() ?? new Date();
  // the cheap facts first: no check below waits on counting, or is skipped when counting runs out of time
  const facts = requestFacts({
    body: input.body,
    model: input.model,
    routeModel: config.metering.modelByRoute.get(input.route?.name ?? ""),
  });
  const { model, outputCap: cap } = facts;
  const limits = consumer.limits;
  const checks: Record<string, unknown> = { model };
  // the call's own model prices its hold: the plan's entry for it, else the consumer's rate
  const rate = resolvePrice(consumer.plan, consumer.rates, model, now, consumer.own);
  const base = () => ({ consumer_id: consumer.id, metadata_version: consumer.metadataVersion, checks, headers: {} });

  const capability = capabilityOf([input.route?.name, input.route?.id, model], config.metering.capabilityMap);
  checks.capability = capability ?? null;
  if (!capabilityGranted(limits, capability)) {
    return deny(
      403,
      {
        code: "capability_not_granted",
        message: `capability ${capability} is not granted to this consumer`,
        capability,
      },
      base(),
    );
  }

  const count = facts.json
    ? await deps.measurer.measure(
        { body: facts.json, text: typeof input.body === "string" ? input.body : undefined, model },
        input.sizeBytes ?? Infinity,
      )
    : { overBudget: false };
  const input_ = inputBoundOf(facts, count, limits.maxInputTokens, config);
  Object.assign(checks, input_.checks);
  if (input_.deny) return deny(403, input_.deny, base());

  checks.max_tokens = cap.kind === "bounded" ? cap.tokens : null;
  if (cap.kind === "invalid")
    return deny(403, { code: "max_tokens_invalid", message: cap.message, field: cap.field }, base());
  if (cap.choices > 1) checks.choices = cap.choices;
  const maxTokens = cap.kind === "bounded" ? cap.tokens : undefined;
  if (overLimit(maxTokens, limits.maxOutputTokens)) {
    const message = `max_tokens ${maxTokens} exceeds max_output_tokens ${limits.maxOutputTokens}`;
    return deny(
      403,
      { code: "max_tokens_over_limit", message, limit: limits.maxOutputTokens, actual: maxTokens },
      base(),
    );
  }

  // the budget holds before the TDL check counts; a call the TDL check then refuses gives its hold back
  let release: (() => Promise<void>) | undefined;
  let bodyFields: Record<string, number> | undefined;
  if (consumer.budgets.length > 0 && deps.budgets) {
    checks.priced_by = rate?.pricedBy ?? null;
    if (!rate && consumer.budgets.some((b) => b.amount !== null)) {
      const what = consumer.budgets.some(isCredit) ? "its prepaid credit" : "a money budget";
      const message = `no price covers model ${model} for this consumer, so ${what} cannot hold the call`;
      return deny(403, { code: "model_unpriced", message, model }, base());
    }
    const hold = await holdBudget(
      {
        budgets: consumer.budgets,
        facts,
        cap,
        inputTokens: input_.forHold,
        maxOutputTokens: limits.maxOutputTokens,
        rate,
        requestId: input.request_id,
        timeoutMs: input.timeout_ms,
        now,
      },
      deps.budgets,
      config,
    );
    checks.budget = hold.checks;
    if (hold.kind === "denied") return deny(hold.status, hold.reason, base());
    ({ release, bodyFields } = hold);
  }

  const { localDate, slot } = localSlotOf(now, config.billing.timeZone);
  const level = levelOf(input_.forLevel, config.tdl.levelBounds);
  const limit = cellLimit(limits.tdlMatrix, slot, level);
  const admission = await deps.counter.admit({ consumerId: consumer.id, localDate, slot, level }, limit);
  Object.assign(checks, {
    date: localDate,
    slot: SLOT_NAMES[slot],
    level,
    cell_limit: limit,
    cell_calls: admission.calls,
    tdl_source: admission.source,
  });
  if (!admission.admitted) {
    await release?.();
    const message = `${SLOT_NAMES[slot]} level ${level} allows ${limit} calls a day and ${admission.calls} were made`;
    return deny(
      429,
      { code: "tdl_limit_reached", message, slot: SLOT_NAMES[slot], level, limit, actual: admission.calls },
      base(),
    );
  }

  const headers = userHeaders(
    {
      ...consumer,
      ...limits,
      inputCostPerToken: rate?.inputCostPerToken,
      outputCostPerToken: rate?.outputCostPerToken,
    },
    admission.matrix,
  );
  return {
    allow: true,
    status: 200,
    reason: null,
    ...base(),
    headers,
    ...(bodyFields ? { body_fields: bodyFields } : {}),
  };
}
