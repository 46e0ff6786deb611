// Persists a chunk's events so that one event PostgreSQL refuses cannot hold up the rest.
// The chunk is written in one transaction. If that fails:
// - transient (see src/db/errors.ts): TransientFailure is thrown; nothing of the chunk is
//   acknowledged and the consumer retries it later, with backoff.
// - data: the chunk is halved and each half written on its own, recursively, so the events
//   responsible are found in O(k log n) transactions and dead-lettered one by one with the
//   database's reason. Every other event is written exactly once: each part commits whole or not
//   at all, and a part retried after a crash skips the event ids already stored.
// - unknown: treated as transient while PostgreSQL fails a health probe; once it answers, isolated
//   like a data error, except that a lone event is tried once more before it is dead-lettered. So
//   an unexplained failure holds a partition for a bounded time and loses nothing: its dead letter
//   carries the original bytes and the database's message, for a replay once the cause is fixed.
import type { Db } from "../../src/db/client.ts";
import type { SqlPool } from "../../src/db/pool.ts";
import { classifyDbError, databaseAnswers, TransientFailure, type DbFailure } from "../../src/db/errors.ts";
import type { MeteredEvent } from "./stages/metered-event.ts";
import { persist, PricesMoved, type Persisted, type PersistOptions } from "./stages/persist.ts";
import type { DeadLetter, RawMessage } from "./messages.ts";

export type Item = { message: RawMessage; event: MeteredEvent };

const RETRY_LONE_UNKNOWN_AFTER_MS = 250;

/** How a failed write is to be handled; an unclassified one counts as an outage while PostgreSQL does not answer. */
export async function judgeFailure(db: Db, err: unknown): Promise<DbFailure> {
  const failure = classifyDbError(err);
  if (failure.kind === "unknown" && !(await databaseAnswers(db))) return { ...failure, kind: "transient" };
  return failure;
}

export async function persistIsolated(
  db: Db,
  pool: SqlPool,
  items: Item[],
  options: PersistOptions,
): Promise<Omit<Persisted, "refused"> & { deadLetters: DeadLetter[] }> {
  const inserted: MeteredEvent[] = [];
  const merged: MeteredEvent[] = [];
  const deadLetters: DeadLetter[] = [];
  const messageOf = new Map(items.map((i) => [i.event, i.message]));

  const write = async (part: Item[], secondTry = false): Promise<void> => {
    if (part.length === 0) return;
    try {
      const done = await persist(
        pool,
        part.map((i) => i.event),
        options,
      );
      inserted.push(...done.inserted);
      merged.push(...done.merged);
      for (const r of done.refused) {
        deadLetters.push({
          message: messageOf.get(r.event)!,
          kind: r.kind ?? "report_conflict",
          reason: r.reason,
          eventId: r.event.id,
          consumer: r.event.consumerId ?? undefined,
        });
      }
      return;
    } catch (err) {
      if (err instanceof PricesMoved) throw err; // the whole batch is priced again, not isolated
      const failure = await judgeFailure(db, err);
      if (failure.kind === "transient") throw new TransientFailure(failure, err);
      if (part.length > 1) {
        const mid = part.length >> 1;
        await write(part.slice(0, mid));
        await write(part.slice(mid));
        return;
      }
      if (failure.kind === "unknown" && !secondTry) {
        await new Promise((r) => setTimeout(r, RETRY_LONE_UNKNOWN_AFTER_MS));
        return write(part, true);
      }
      const data = failure.kind === "data";
      const reason = `database refused the event (${data ? "data" : "unclassified"}): ${failure.message}`;
      const { message, event } = part[0]!;
      deadLetters.push({
        message,
        kind: data ? "database_data" : "database_unclassified",
        reason,
        eventId: event.id,
        consumer: event.consumerId ?? undefined,
      });
    }
  };

  await write(items);
  return { inserted, merged, deadLetters };
}
