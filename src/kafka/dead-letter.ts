// A dead letter keeps the original bytes as its value and says why, where and when in headers.
import type { IHeaders, Message } from "kafkajs";

/** Longest reason kept in a header. */
const MAX_REASON = 2000;

export type DeadLetterInfo = {
  stage: "ingest" | "meter";
  /** The reason as a bounded class (see the dead_letters table). */
  kind: string;
  reason: string;
  /** Position of the entry in the posted batch (ingest). */
  index?: number;
  /** Where the message was read from (meter). */
  source?: { topic: string; partition: number; offset: string };
  /** The usage event the message carries, when it could be read. */
  eventId?: string;
};

export function deadLetter(
  value: Buffer | string | null,
  key: Buffer | string | null | undefined,
  info: DeadLetterInfo,
): Message {
  const headers: IHeaders = {
    "tm-stage": info.stage,
    "tm-kind": info.kind,
    "tm-reason": info.reason.slice(0, MAX_REASON),
    "tm-failed-at": new Date().toISOString(),
  };
  if (info.index !== undefined) headers["tm-index"] = String(info.index);
  if (info.eventId !== undefined) headers["tm-event-id"] = info.eventId;
  if (info.source) {
    headers["tm-source-topic"] = info.source.topic;
    headers["tm-source-partition"] = String(info.source.partition);
    headers["tm-source-offset"] = info.source.offset;
  }
  return { key: key ?? null, value, headers };
}

/** A dead letter too large for the topic keeps the start of its value, and says so in a header. */
export function fitted(
  letter: Message,
  limit: { fits(m: Message): boolean; readonly maxMessageBytes: number },
): Message {
  if (limit.fits(letter)) return letter;
  const keep = Math.floor(limit.maxMessageBytes / 2);
  const value = (
    typeof letter.value === "string" ? Buffer.from(letter.value) : (letter.value ?? Buffer.alloc(0))
  ).subarray(0, keep);
  return { ...letter, value, headers: { ...letter.headers, "tm-truncated-to": String(keep) } };
}
