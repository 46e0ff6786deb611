// The decision the gateway asks for before proxying a call. Checks run cheapest first and the TDL
// check, the only one that counts, runs last, so a call denied for another reason uses no slot.
import type { Config } from "../config.ts";
import { capabilityGranted, capabilityOf, cellLimit, overLimit, type DenyCode } from "../domain/limits.ts";
import { rateAt } from "../domain/pricing.ts";
import { levelOf, localSlotOf, SLOT_NAMES } from "../domain/tdl.ts";
import { requestTokens } from "../tokens/chat.ts";
import { counterFor } from "../tokens/counter.ts";
import { encodingNameFor } from "../tokens/encoding.ts";
import type { GatewayConsumer, MetadataCache } from "./metadata-cache.ts";
import type { TdlCounter } from "./tdl-counter.ts";
import { userHeaders } from "./user-headers.ts";

export type AuthorizeRequest = {
  consumer: { id?: string; username?: string; custom_id?: string };
  route?: { id?: string; name?: string };
  model?: string;
  /** The client's request body: the raw text Kong read, or already parsed JSON. */
  body?: unknown;
};

export type DenyReason = { code: DenyCode | "consumer_not_configured"; message: string; [detail: string]: unknown };

export type Decision = {
  allow: boolean;
  /** What the gateway answers a denied call with: 403 for a permission or token limit, 429 for a slot limit. */
  status: 200 | 403 | 429;
  reason: DenyReason | null;
  consumer_id: string | null;
  metadata_version: number | null;
  checks: Record<string, unknown>;
  headers: Record<string, string>;
};

export type AuthorizeDeps = {
  config: Config;
  cache: MetadataCache;
  counter: TdlCounter;
  now?: () => Date;
};

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

function parsedBody(body: unknown): Json | undefined {
  if (isObj(body)) return body;
  if (typeof body !== "string" || body === "") return undefined;
  try {
    const v = JSON.parse(body) as unknown;
    return isObj(v) ? v : undefined;
  } catch {
    return undefined; // not JSON: nothing to count or check
  }
}

/** The output cap the client asked for, under any of the APIs' names for it. */
function requestedMaxTokens(body: Json | undefined): number | undefined {
  for (const key of ["max_tokens", "max_completion_tokens", "max_output_tokens"]) {
    const v = body?.[key];
    if (typeof v === "number" && Number.isFinite(v)) return v;
  }
  return undefined;
}

const deny = (status: 403 | 429, reason: DenyReason, base: Omit<Decision, "allow" | "status" | "reason">): Decision => ({
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
  const body = parsedBody(input.body);
  const model = input.model ?? (typeof body?.model === "string" ? body.model : undefined) ?? config.metering.modelByRoute.get(input.route?.name ?? "") ?? "unknown";
  const limits = consumer.limits;
  const checks: Record<string, unknown> = { model };
  const rate = rateAt(consumer.rates, now);
  const base = () => ({ consumer_id: consumer.id, metadata_version: consumer.metadataVersion, checks, headers: {} });

  const capability = capabilityOf([input.route?.name, input.route?.id, model], config.metering.capabilityMap);
  checks.capability = capability ?? null;
  if (!capabilityGranted(limits, capability)) {
    return deny(403, { code: "capability_not_granted", message: `capability ${capability} is not granted to this consumer`, capability }, base());
  }

  const encoding = encodingNameFor(model, config.metering.defaultEncoding);
  const inputTokens = body ? requestTokens(counterFor(encoding), body, encoding === "o200k_base") : undefined;
  checks.input_tokens = inputTokens ?? null;
  if (overLimit(inputTokens, limits.maxInputTokens)) {
    const message = `${inputTokens} input tokens exceed max_input_tokens ${limits.maxInputTokens}`;
    return deny(403, { code: "input_tokens_over_limit", message, limit: limits.maxInputTokens, actual: inputTokens }, base());
  }

  const maxTokens = requestedMaxTokens(body);
  checks.max_tokens = maxTokens ?? null;
  if (overLimit(maxTokens, limits.maxOutputTokens)) {
    const message = `max_tokens ${maxTokens} exceeds max_output_tokens ${limits.maxOutputTokens}`;
    return deny(403, { code: "max_tokens_over_limit", message, limit: limits.maxOutputTokens, actual: maxTokens }, base());
  }

  const { localDate, slot } = localSlotOf(now, config.billing.timeZone);
  const level = levelOf(inputTokens ?? 0, config.tdl.levelBounds);
  const limit = cellLimit(limits.tdlMatrix, slot, level);
  const admission = await deps.counter.admit({ consumerId: consumer.id, localDate, slot, level }, limit);
  Object.assign(checks, { date: localDate, slot: SLOT_NAMES[slot], level, cell_limit: limit, cell_calls: admission.calls, tdl_source: admission.source });
  if (!admission.admitted) {
    const message = `${SLOT_NAMES[slot]} level ${level} allows ${limit} calls a day and ${admission.calls} were made`;
    return deny(429, { code: "tdl_limit_reached", message, slot: SLOT_NAMES[slot], level, limit, actual: admission.calls }, base());
  }

  const headers = userHeaders(
    { ...consumer, ...limits, inputCostPerToken: rate?.inputCostPerToken, outputCostPerToken: rate?.outputCostPerToken },
    admission.matrix,
  );
  return { allow: true, status: 200, reason: null, ...base(), headers };
}
