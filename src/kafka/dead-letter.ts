// A dead letter keeps the original bytes as its value and says why, where and when in headers.
import type { IHeaders, Message } from "kafkajs";

export type DeadLetterInfo = {
  stage: "ingest" | "meter";
  reason: string;
  /** Position of the entry in the posted batch (ingest). */
  index?: number;
  /** Where the message was read from (meter). */
  source?: { topic: string; partition: number; offset: string };
};

export function deadLetter(value: Buffer | string | null, key: Buffer | string | null | undefined, info: DeadLetterInfo): Message {
  const headers: IHeaders = {
    "tm-stage": info.stage,
    "tm-reason": info.reason,
    "tm-failed-at": new Date().toISOString(),
  };
  if (info.index !== undefined) headers["tm-index"] = String(info.index);
  if (info.source) {
    headers["tm-source-topic"] = info.source.topic;
    headers["tm-source-partition"] = String(info.source.partition);
    headers["tm-source-offset"] = info.source.offset;
  }
  return { key: key ?? null, value, headers };
}
