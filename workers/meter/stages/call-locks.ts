// A call is stored once by its id, but usage_events is partitioned by month, so no unique index
// covers an id across months: two writers storing reports of one call dated in two months would
// both insert. Each chunk's transaction first takes a lock per call id (a 32-bit hash of it, so
// two ids may share a lock, which only makes them wait), always in ascending order so two writers
// never deadlock. A writer then sees every call of its ids that another writer stored.
import type { SqlClient } from "../../../src/db/pool.ts";

/** The advisory lock space of call ids (the two-key form, apart from the one-key locks). */
const CALL_LOCKS = 74_682_053;

/** A 32-bit FNV-1a hash of the id's UTF-16 code units, as a signed int4. */
function lockKey(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

/** Locks the calls `ids` until the transaction ends. */
export async function lockCallIds(client: SqlClient, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const keys = [...new Set(ids.map(lockKey))].sort((a, b) => a - b);
  // unnest yields the array in order, so the locks are taken in the order sorted here
  await client.query({
    name: "meter.lock_call_ids",
    text: "SELECT count(pg_advisory_xact_lock($1::int, k)) FROM unnest($2::int[]) AS k",
    values: [CALL_LOCKS, keys],
  });
}
