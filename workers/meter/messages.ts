// What the meter reads from the raw topic, and what it sends to the dead-letter topic.

export type RawMessage = {
  value: Buffer | null;
  key?: Buffer | null;
  offset: string;
  partition: number;
  topic: string;
};
/** Why a message was dead-lettered, as a bounded class (metrics, filters) beside the sentence. */
type DeadLetterKind =
  | "parse"
  | "consumer_registration"
  | "metering"
  | "report_conflict"
  | "archived_month"
  | "database_data"
  | "database_unclassified";
export type DeadLetter = {
  message: RawMessage;
  kind: DeadLetterKind;
  reason: string;
  eventId?: string;
  consumer?: string;
};
