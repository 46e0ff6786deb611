// Kong's metering-and-billing plugin reports calls as CloudEvents 1.0 (shared fact sheet:
// kong-payloads.md §4). This module is what tokenmeter accepts of them and what it reads:
// `kong.api_request` (one per proxied request) and `kong.llm_request` (one with the prompt tokens,
// `data.type` "request", and one with the completion tokens, "response", tied to the call by
// `data.api_request_id`, Kong's request id).
import { createHash } from "node:crypto";
import { z } from "zod";
import type { KongConsumerRef } from "./kong-log.ts";
import { plausibleCount, storableId, storableText } from "./storable.ts";

const METERED_TYPES = ["kong.api_request", "kong.llm_request"] as const;

const text = z.string().min(1, "must be a non-empty string");
const instant = z
  .string()
  .datetime({ offset: true, message: "must be an RFC 3339 timestamp" })
  .refine((t) => {
    const ms = Date.parse(t);
    return ms >= 946_684_800_000 && ms < 4_102_444_800_000;
  }, "must be between 2000 and 2100");

/** CloudEvents 1.0 context attributes (extensions pass through) with OpenMeter's required subject. */
const CloudEventSchema = z
  .object({
    specversion: z.literal("1.0", { message: 'must be "1.0"' }),
    id: text,
    source: text,
    type: text,
    subject: text,
    time: instant.optional(),
    datacontenttype: z
      .string()
      .refine((t) => t.split(";")[0]!.trim().toLowerCase() === "application/json", "must be application/json")
      .optional(),
    dataschema: z.string().optional(),
    data: z.record(z.string(), z.unknown()).optional(),
  })
  .passthrough();

export type CloudEvent = z.infer<typeof CloudEventSchema>;

const LlmDataSchema = z
  .object({
    type: z.enum(["request", "response"], { message: 'must be "request" or "response"' }),
    tokens: z.number().refine(plausibleCount, "must be a whole token count from 0 to 100000000").optional(),
    api_request_id: text.optional(),
  })
  .passthrough();

export type EventCheck =
  | { ok: true; event: CloudEvent }
  | { ok: false; code: "cloudevent_invalid" | "cloudevent_unmetered_type"; reason: string };

function describe(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>, prefix = ""): string {
  return issues
    .slice(0, 3)
    .map((i) => `${[prefix, ...i.path.map(String)].filter(Boolean).join(".") || "(root)"}: ${i.message}`)
    .join("; ");
}

/** A CloudEvent tokenmeter meters, or why it is refused (the field and the rule). */
export function checkCloudEvent(value: unknown): EventCheck {
  const parsed = CloudEventSchema.safeParse(value);
  if (!parsed.success) return { ok: false, code: "cloudevent_invalid", reason: describe(parsed.error.issues) };
  const event = parsed.data;
  if (!(METERED_TYPES as readonly string[]).includes(event.type)) {
    return {
      ok: false,
      code: "cloudevent_unmetered_type",
      reason: `type: ${storableText(event.type, 100)} is not metered (${METERED_TYPES.join(", ")})`,
    };
  }
  if (event.type === "kong.llm_request") {
    const data = LlmDataSchema.safeParse(event.data ?? {});
    if (!data.success) return { ok: false, code: "cloudevent_invalid", reason: describe(data.error.issues, "data") };
  }
  return { ok: true, event };
}

const str = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);

/**
 * The usage event a CloudEvent reports on: Kong's request id (`data.api_request_id`; a
 * `kong.api_request` event's own id is taken to be it when its data names none), the same id an
 * http-log entry of the call has. An llm event without one cannot be tied to its call: it is its
 * own event, identified by (source, id).
 */
export function callIdOf(e: CloudEvent): string {
  const rid =
    str(e.data?.api_request_id) ?? str(e.data?.request_id) ?? (e.type === "kong.api_request" ? e.id : undefined);
  if (rid) return storableId(rid, "rid-sha256");
  return `ce-sha256:${createHash("sha256").update(`${e.source}\n${e.id}`, "utf8").digest("hex")}`;
}

/** An unresolved subject, as the plugin writes it: no consumer. */
const UNRESOLVED = "unknown";

/** The Kong consumer a subject names: `consumer:<id>` (newer plugins) or the consumer's username. */
export function subjectRef(subject: string): KongConsumerRef | undefined {
  if (subject === UNRESOLVED) return undefined;
  if (subject.startsWith("consumer:") && subject.length > "consumer:".length)
    return { kongId: storableId(subject.slice("consumer:".length)) };
  return { username: storableId(subject) };
}
