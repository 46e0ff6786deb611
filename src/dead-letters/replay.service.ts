// Replaying dead letters after their cause is fixed (a code fix, a consumer imported, the database
// repaired): each is re-submitted through the normal path, so replay is idempotent: an event
// metered once stays once, since the meter skips event ids it has stored.
// - ingest: the body goes through ingest again (the same function Kong's POST uses) once every
//   entry in it would now be accepted; otherwise nothing is produced and it is reported as still
//   refused (so a replay of a still-bad entry does not add another dead letter).
// - meter: the original raw message goes back to the raw topic with its key; the meter decides
//   again. One it still cannot read is reported and not produced; one the database still refuses
//   comes back as a new dead letter.
import type { Db } from "../db/client.ts";
import { checkEntry, entriesOf } from "../ingest/entries.ts";
import { ingestBody, type IngestDeps } from "../ingest/ingest-body.ts";
import { CLOUDEVENT_TYPES, eventsOf, ingestCloudEvents } from "../ingest/ingest-events.ts";
import { checkCloudEvent } from "../domain/cloud-event.ts";
import { parseMessage, Poison } from "../domain/raw-message.ts";
import { findDeadLettersForReplay, markReplayed, type DeadLetterFilter } from "./dead-letter.repository.ts";

export type ReplayOutcome = { id: string; stage: string; outcome: "resubmitted" | "still_refused"; detail?: string };

type Letter = Awaited<ReturnType<typeof findDeadLettersForReplay>>[number];

/** Why the letter would be refused again right away, or undefined when it can be re-submitted. */
function stillRefused(letter: Letter): string | undefined {
  const payload = Buffer.from(letter.payload);
  if (letter.truncated) return "the payload was too large for the dead-letter topic and was cut; it cannot be replayed";
  if (letter.stage === "meter") {
    const parsed = parseMessage(payload);
    return parsed instanceof Poison ? parsed.reason : undefined;
  }
  try {
    if (fromCloudEvents(letter)) {
      const bad = eventsOf(payload, CLOUDEVENT_TYPES.json)
        .map(checkCloudEvent)
        .find((c) => !c.ok);
      return bad && !bad.ok ? bad.reason : undefined;
    }
    const bad = entriesOf(payload)
      .map(checkEntry)
      .find((c) => !c.ok);
    return bad && !bad.ok ? bad.reason : undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** An ingest dead letter of POST /ingest/events goes back through that path, not the http-log one. */
const fromCloudEvents = (letter: Letter) => letter.kind.startsWith("cloudevent");

async function resubmit(letter: Letter, deps: IngestDeps): Promise<void> {
  const payload = Buffer.from(letter.payload);
  if (letter.stage === "ingest") {
    await (fromCloudEvents(letter)
      ? ingestCloudEvents(payload, CLOUDEVENT_TYPES.json, deps)
      : ingestBody(payload, deps));
    return;
  }
  await deps.producer.send([
    { topic: deps.config.kafka.rawTopic, messages: [{ key: letter.messageKey, value: payload }] },
  ]);
}

export async function replayDeadLetters(
  db: Db,
  filter: DeadLetterFilter,
  limit: number,
  deps: IngestDeps,
): Promise<ReplayOutcome[]> {
  const letters = await findDeadLettersForReplay(db, filter, limit);
  const outcomes: ReplayOutcome[] = [];
  const resubmitted: string[] = [];
  for (const letter of letters) {
    const refused = stillRefused(letter);
    if (refused) {
      outcomes.push({ id: letter.id, stage: letter.stage, outcome: "still_refused", detail: refused });
      continue;
    }
    await resubmit(letter, deps);
    resubmitted.push(letter.id);
    outcomes.push({ id: letter.id, stage: letter.stage, outcome: "resubmitted" });
  }
  await markReplayed(db, resubmitted);
  return outcomes;
}
