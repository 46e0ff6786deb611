// The identity of a usage event and the envelope ingest puts on the raw topic.
import { createHash } from "node:crypto";
import { z } from "zod";

/**
 * Kong's request id (3.5+) where present, otherwise a hash of the entry's canonical JSON: the same
 * log delivered twice gets the same id and is billed once.
 */
export function eventIdOf(entry: Record<string, unknown>): string {
  const request = entry.request as { id?: unknown } | undefined;
  if (typeof request?.id === "string" && request.id !== "") return request.id;
  return `sha256:${createHash("sha256").update(canonicalJson(entry)).digest("hex")}`;
}

/** JSON with object keys sorted, so key order (arbitrary in Kong's encoder) does not change the hash. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** The message value on the raw usage topic. `v` versions the envelope; readers check it. */
export const RawUsageEnvelopeSchema = z.object({
  v: z.literal(1),
  id: z.string().min(1),
  source: z.literal("kong-http-log"),
  receivedAt: z.string().datetime(),
  log: z.record(z.unknown()),
});
export type RawUsageEnvelope = z.infer<typeof RawUsageEnvelopeSchema>;

/** Partition key: the Kong consumer, so one consumer's events stay in order on one partition. */
export function partitionKeyOf(entry: Record<string, unknown>): string {
  const c = entry.consumer as { id?: unknown; username?: unknown; custom_id?: unknown } | undefined;
  for (const v of [c?.id, c?.username, c?.custom_id]) if (typeof v === "string" && v !== "") return v;
  return "unattributed";
}
