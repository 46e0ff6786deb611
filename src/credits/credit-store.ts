// Credit grants and their ledger in PostgreSQL, inside a caller's transaction. Every writer (the
// meter burning, the API granting or voiding, the expiry sweep) locks the consumer's grants first,
// in id order, applies movements computed by burn.ts, and writes each grant's new state with its
// movements: a grant's remaining part and its ledger sum never part.
import type { Sql } from "../db/sql.ts";
import { Decimal } from "../domain/money.ts";
import { expireDue, type GrantState, type Movement } from "./burn.ts";

type GrantRow = {
  id: string;
  consumer_id: string;
  priority: number;
  effective_at: Date;
  expires_at: Date | null;
  created_at: Date;
  remaining: string;
  expired: string;
  voided: boolean;
  db_now: Date;
};

export type LockedGrants = {
  /** Each consumer's grants (consumers without any are absent). */
  byConsumer: Map<string, GrantState[]>;
  consumerOf: Map<string, string>;
  /** PostgreSQL's clock: every process expires grants at the same instant. */
  now: Date;
};

/** Locks the grants of these consumers until the transaction ends, and applies expiries that are due. */
export async function lockGrants(sql: Sql, consumerIds: string[]): Promise<LockedGrants & { movements: Movement[] }> {
  const rows = await sql.query<GrantRow>(
    `SELECT id::text, consumer_id::text, priority, effective_at, expires_at, created_at, remaining::text, expired::text,
             voided_at IS NOT NULL AS voided, now() AS db_now
           FROM credit_grants WHERE consumer_id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`,
    [consumerIds],
  );
  // with no grants there is nothing to expire, and the clock is not needed
  const now = rows[0]?.db_now ?? new Date();
  const byConsumer = new Map<string, GrantState[]>();
  const consumerOf = new Map<string, string>();
  for (const r of rows) {
    const list = byConsumer.get(r.consumer_id) ?? [];
    list.push({
      id: r.id,
      priority: r.priority,
      effectiveAt: r.effective_at,
      expiresAt: r.expires_at,
      createdAt: r.created_at,
      remaining: new Decimal(r.remaining),
      expired: new Decimal(r.expired),
      voided: r.voided,
    });
    byConsumer.set(r.consumer_id, list);
    consumerOf.set(r.id, r.consumer_id);
  }
  const movements = [...byConsumer.values()].flatMap((grants) => expireDue(grants, now));
  return { byConsumer, consumerOf, now, movements };
}

/** What credit covers each of these calls already, per grant (net of burns and corrections). */
export async function creditedOf(sql: Sql, eventIds: string[]): Promise<Map<string, Map<string, Decimal>>> {
  const out = new Map<string, Map<string, Decimal>>();
  if (eventIds.length === 0) return out;
  const rows = await sql.query<{ event_id: string; grant_id: string; credited: string }>(
    `SELECT event_id, grant_id::text, (-sum(amount))::text AS credited FROM credit_ledger
           WHERE event_id = ANY($1::text[]) AND kind IN ('burn', 'correction') GROUP BY event_id, grant_id`,
    [eventIds],
  );
  for (const r of rows) {
    const byGrant = out.get(r.event_id) ?? new Map<string, Decimal>();
    byGrant.set(r.grant_id, new Decimal(r.credited));
    out.set(r.event_id, byGrant);
  }
  return out;
}

/** Writes the movements and the new state of every grant they touch. */
export async function writeMovements(sql: Sql, locked: LockedGrants, movements: Movement[], note?: string): Promise<void> {
  if (movements.length === 0) return;
  await sql.query(
    `INSERT INTO credit_ledger (consumer_id, grant_id, kind, amount, event_id, at, note)
           SELECT t.consumer_id, t.grant_id, t.kind, t.amount, t.event_id, t.at, $7 FROM unnest($1::uuid[], $2::uuid[], $3::credit_movement_kind[], $4::numeric[], $5::text[], $6::timestamptz[])
             AS t(consumer_id, grant_id, kind, amount, event_id, at)`,
    [
      movements.map((m) => locked.consumerOf.get(m.grantId)!),
      movements.map((m) => m.grantId),
      movements.map((m) => m.kind),
      movements.map((m) => m.amount.toFixed()),
      movements.map((m) => m.eventId ?? null),
      movements.map((m) => m.at.toISOString()),
      note ?? null,
    ],
  );
  const touched = new Set(movements.map((m) => m.grantId));
  const grants = [...locked.byConsumer.values()].flat().filter((g) => touched.has(g.id));
  await sql.query(
    `UPDATE credit_grants g SET remaining = t.remaining, expired = t.expired
           FROM unnest($1::uuid[], $2::numeric[], $3::numeric[]) AS t(id, remaining, expired) WHERE g.id = t.id`,
    [grants.map((g) => g.id), grants.map((g) => g.remaining.toFixed()), grants.map((g) => g.expired.toFixed())],
  );
}
