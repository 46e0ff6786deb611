// Raw topic message -> the Kong log it carries, or a Poison naming why it cannot be metered.
import { KongLogSchema, type KongLog } from "../../../src/domain/kong-log.ts";
import { RawUsageEnvelopeSchema } from "../../../src/domain/usage-event.ts";

export type ParsedEntry = { eventId: string; receivedAt: Date; log: KongLog };

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
  const log = KongLogSchema.safeParse(envelope.data.log);
  if (!log.success) return new Poison(`unusable Kong log: ${describe(log.error.issues)}`);
  return { eventId: envelope.data.id, receivedAt: new Date(envelope.data.receivedAt), log: log.data };
}
