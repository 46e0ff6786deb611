// The API shape of a dead letter, as the API and the CLI show it; the payload (redacted) only when asked.
import type { findDeadLetter } from "../../dead-letters/dead-letter.repository.ts";

type Letter = NonNullable<Awaited<ReturnType<typeof findDeadLetter>>>;

export function presentDeadLetter(
  d: Omit<Letter, "payload" | "messageKey" | "dlqTopic" | "dlqPartition" | "dlqOffset"> & { payload?: Uint8Array },
) {
  return {
    id: d.id,
    stage: d.stage,
    kind: d.kind,
    reason: d.reason,
    failed_at: d.failedAt.toISOString(),
    recorded_at: d.recordedAt.toISOString(),
    source: d.sourceTopic
      ? { topic: d.sourceTopic, partition: d.sourcePartition, offset: d.sourceOffset?.toString() ?? null }
      : null,
    entry_index: d.entryIndex,
    event_id: d.eventId,
    truncated: d.truncated,
    replay_count: d.replayCount,
    last_replayed_at: d.lastReplayedAt?.toISOString() ?? null,
    ...(d.payload ? { payload: Buffer.from(d.payload).toString("utf8") } : {}),
  };
}
