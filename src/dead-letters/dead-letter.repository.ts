// Dead letters in PostgreSQL: recorded from the dead-letter topic, listed, read, marked replayed.
import type { KafkaMessage } from "kafkajs";
import type { Prisma, Db, PrismaClient } from "../db/client.ts";
import { addToOutbox } from "../alerts/outbox.ts";
import { storableText } from "../domain/storable.ts";

export type DeadLetterFilter = { stage?: string; reason?: string; from?: Date; to?: Date; ids?: string[] };

/** A header as storable text: a reason can quote names taken from a log. */
const header = (m: KafkaMessage, name: string) => {
  const v = m.headers?.[name]?.toString();
  return v === undefined ? undefined : storableText(v, 4000);
};
const intOrNull = (v: string | undefined) => (v === undefined || v === "" || !/^\d+$/.test(v) ? null : Number(v));

/** A row for one message of the dead-letter topic (its payload already redacted). */
export function rowOf(
  topic: string,
  partition: number,
  m: KafkaMessage,
  payload: Buffer,
): Prisma.DeadLetterCreateManyInput {
  const failedAt = new Date(header(m, "tm-failed-at") ?? "");
  const sourceOffset = header(m, "tm-source-offset");
  return {
    stage: header(m, "tm-stage") ?? "unknown",
    kind: header(m, "tm-kind") ?? "unknown",
    reason: header(m, "tm-reason") ?? "",
    failedAt: Number.isNaN(failedAt.getTime()) ? new Date(Number(m.timestamp)) : failedAt,
    sourceTopic: header(m, "tm-source-topic") ?? null,
    sourcePartition: intOrNull(header(m, "tm-source-partition")),
    sourceOffset: sourceOffset && /^\d+$/.test(sourceOffset) ? BigInt(sourceOffset) : null,
    entryIndex: intOrNull(header(m, "tm-index")),
    eventId: header(m, "tm-event-id") ?? null,
    messageKey: m.key ? storableText(m.key.toString(), 4000) : null,
    payload: new Uint8Array(payload),
    truncated: header(m, "tm-truncated-to") !== undefined,
    dlqTopic: topic,
    dlqPartition: partition,
    dlqOffset: BigInt(m.offset),
  };
}

/** Records rows; a row already recorded (same position, or the same meter source) is skipped. */
/** Records the rows not recorded yet, each with its dead_letter.recorded alert, in one transaction. */
export async function recordDeadLetters(db: PrismaClient, rows: Prisma.DeadLetterCreateManyInput[]): Promise<number> {
  if (rows.length === 0) return 0;
  return db.$transaction(async (tx) => {
    const created = await tx.deadLetter.createManyAndReturn({
      data: rows,
      skipDuplicates: true,
      select: { id: true, stage: true, kind: true, reason: true, failedAt: true, eventId: true },
    });
    await addToOutbox(
      tx,
      created.map((d) => ({
        type: "dead_letter.recorded" as const,
        dedupKey: `dead_letter.recorded:${d.id}`,
        data: {
          dead_letter_id: d.id,
          stage: d.stage,
          kind: d.kind,
          reason: d.reason,
          failed_at: d.failedAt.toISOString(),
          event_id: d.eventId,
        },
      })),
    );
    return created.length;
  });
}

function where(f: DeadLetterFilter): Prisma.DeadLetterWhereInput {
  return {
    ...(f.ids ? { id: { in: f.ids } } : {}),
    ...(f.stage ? { stage: f.stage } : {}),
    ...(f.reason ? { OR: [{ kind: f.reason }, { reason: { contains: f.reason, mode: "insensitive" as const } }] } : {}),
    ...(f.from || f.to ? { failedAt: { ...(f.from ? { gte: f.from } : {}), ...(f.to ? { lt: f.to } : {}) } } : {}),
  };
}

const SUMMARY = {
  id: true,
  stage: true,
  kind: true,
  reason: true,
  failedAt: true,
  recordedAt: true,
  sourceTopic: true,
  sourcePartition: true,
  sourceOffset: true,
  entryIndex: true,
  eventId: true,
  truncated: true,
  replayCount: true,
  lastReplayedAt: true,
} as const;

/** Newest first; `after` is the last row of the previous page as `<failedAt ISO>|<id>`. */
export async function listDeadLetters(
  db: Db,
  f: DeadLetterFilter,
  page: { limit: number; after?: { failedAt: Date; id: string } },
) {
  const after = page.after
    ? { OR: [{ failedAt: { lt: page.after.failedAt } }, { failedAt: page.after.failedAt, id: { lt: page.after.id } }] }
    : {};
  return db.deadLetter.findMany({
    where: { AND: [where(f), after] },
    orderBy: [{ failedAt: "desc" }, { id: "desc" }],
    take: page.limit,
    select: SUMMARY,
  });
}

export const findDeadLetter = (db: Db, id: string) => db.deadLetter.findUnique({ where: { id } });

export const findDeadLettersForReplay = (db: Db, f: DeadLetterFilter, limit: number) =>
  db.deadLetter.findMany({ where: where(f), orderBy: [{ failedAt: "asc" }, { id: "asc" }], take: limit });

export async function markReplayed(db: Db, ids: string[]): Promise<void> {
  if (ids.length)
    await db.deadLetter.updateMany({
      where: { id: { in: ids } },
      data: { replayCount: { increment: 1 }, lastReplayedAt: new Date() },
    });
}

/** Recorded dead letters by stage and whether they were replayed (for /metrics). */
export async function countDeadLetters(db: Db) {
  const rows = await db.$queryRaw<Array<{ stage: string; replayed: boolean; n: bigint }>>`
    SELECT stage, replay_count > 0 AS replayed, count(*) AS n FROM dead_letters GROUP BY 1, 2`;
  return rows.map((r) => ({ stage: r.stage, replayed: r.replayed, count: Number(r.n) }));
}
