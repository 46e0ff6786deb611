// Raw topic message -> the report it carries (an http-log entry or a CloudEvent), or a Poison
// naming why it cannot be metered.
import { checkCloudEvent, type CloudEvent } from "./cloud-event.ts";
import { KongLogSchema, type KongLog } from "./kong-log.ts";
import { RawUsageEnvelopeSchema } from "./usage-event.ts";

type Report = { kind: "http-log"; log: KongLog } | { kind: "cloudevent"; event: CloudEvent };
export type ParsedEntry = { eventId: string; receivedAt: Date; report: Report };

/** A message that can never be metered; it goes to the dead-letter topic with this reason. */
export class Poison {
  constructor(readonly reason: string) {}
}

function describe(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  return issues
    .slice(0, 3)
    .map((i) => `${i.path.map(String).join(".") || "(root)"}: ${i.message}`)
    .join("; ");
}

export function parseMessage(value: Buffer | null): ParsedEntry | Poison {
  if (!value || value.length === 0) return new Poison("empty message");
  let json: unknown;
  try {
    json = JSON.parse(value.toString("utf8"));
  } catch (err) {
    return new Poison(`message is not JSON: ${(err as Error).message}`);
  }
  const envelope = RawUsageEnvelopeSchema.safeParse(json);
  if (!envelope.success) return new Poison(`not a raw usage envelope: ${describe(envelope.error.issues)}`);
  const { id: eventId, receivedAt } = envelope.data;
  if (envelope.data.source === "kong-cloudevents") {
    const check = checkCloudEvent(envelope.data.event);
    if (!check.ok) return new Poison(`unusable CloudEvent: ${check.reason}`);
    return { eventId, receivedAt: new Date(receivedAt), report: { kind: "cloudevent", event: check.event } };
  }
  const log = KongLogSchema.safeParse(envelope.data.log);
  if (!log.success) return new Poison(`unusable Kong log: ${describe(log.error.issues)}`);
  return { eventId, receivedAt: new Date(receivedAt), report: { kind: "http-log", log: log.data } };
}
