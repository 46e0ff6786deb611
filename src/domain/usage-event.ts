// The identity of a usage event and the envelope ingest puts on the raw topic.
import { createHash } from "node:crypto";
import { z } from "zod";
import { canonicalJson } from "./json.ts";
import { storableId } from "./storable.ts";

/**
 * Kong's request id (3.5+) where present, otherwise a hash of the entry's canonical JSON: the same
 * log delivered twice gets the same id and is billed once. A request id that is too long or not
 * storable is replaced by its own hash (`rid-sha256:`), which is just as stable.
 */
export function eventIdOf(entry: Record<string, unknown>): string {
  const request = entry.request as { id?: unknown } | undefined;
  if (typeof request?.id === "string" && request.id !== "") return storableId(request.id, "rid-sha256");
  return `sha256:${createHash("sha256").update(canonicalJson(entry)).digest("hex")}`;
}

/**
 * The message value on the raw usage topic: one http-log entry or one CloudEvent, with the id of
 * the usage event it reports on. `v` versions the envelope; readers check it.
 */
const envelope = { v: z.literal(1), id: z.string().min(1), receivedAt: z.string().datetime() };
export const RawUsageEnvelopeSchema = z.discriminatedUnion("source", [
  z.object({ ...envelope, source: z.literal("kong-http-log"), log: z.record(z.string(), z.unknown()) }),
  z.object({ ...envelope, source: z.literal("kong-cloudevents"), event: z.record(z.string(), z.unknown()) }),
]);
export type RawUsageEnvelope = z.infer<typeof RawUsageEnvelopeSchema>;

/** The partition key of an identity: hashed, so the partitioner's cost does not grow with it. */
export function identityKey(identity: string): string {
  return createHash("sha256").update(identity, "utf8").digest("hex").slice(0, 32);
}

/**
 * Partition key: a hash of the Kong consumer's identity, so one consumer's events stay in order on
 * one partition whatever the identity's length (the key is hashed again by the partitioner, whose
 * cost grows with the key).
 */
export function partitionKeyOf(entry: Record<string, unknown>): string {
  const c = entry.consumer as { id?: unknown; username?: unknown; custom_id?: unknown } | undefined;
  let identity = "unattributed";
  for (const v of [c?.id, c?.username, c?.custom_id]) {
    if (typeof v === "string" && v !== "") {
      identity = v;
      break;
    }
  }
  return identityKey(identity);
}
