// Credit grants and their ledger in PostgreSQL, inside a caller's transaction. Every writer (the
// meter burning, the API granting or voiding, the expiry sweep) locks the owner's grants first,
// in id order, applies movements computed by burn.ts, and writes each grant's new state with its
// movements: a grant's remaining part and its ledger sum never part.
import type { Sql } from "../db/sql.ts";
import { Decimal } from "../domain/money.ts";
import { ownerKey, type BudgetOwner } from "../budgets/budget.ts";
import { expireDue, type GrantState, type Movement } from "./burn.ts";

/** Whose credit: one consumer's grants, or the pool of a tag (src/budgets' owner, the same shape). */
export type CreditOwner = BudgetOwner;

type GrantRow = {
  id: string;
  consumer_id: string | null;
  tag: string | null;
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
  /** Each owner's grants, by ownerKey (owners without any are absent). */
  byOwner: Map<string, GrantState[]>;
  ownerOf: Map<string, CreditOwner>;
  /** PostgreSQL's clock: every process expires grants at the same instant. */
  now: Date;
};

/** Locks the grants of these owners until the transaction ends, and applies expiries that are due. */
export async function lockGrants(sql: Sql, owners: CreditOwner[]): Promise<LockedGrants & { movements: Movement[] }> {
  const consumers = owners.flatMap((o) => (o.consumerId !== undefined ? [o.consumerId] : []));
  const tags = owners.flatMap((o) => (o.tag !== undefined ? [o.tag] : []));
  const rows = await sql.query<GrantRow>(
    `SELECT id::text, consumer_id::text, tag, priority, effective_at, expires_at, created_at, remaining::text, expired::text,
             voided_at IS NOT NULL AS voided, now() AS db_now
           FROM credit_grants WHERE consumer_id = ANY($1::uuid[]) OR tag = ANY($2::text[]) ORDER BY id FOR UPDATE`,
    [consumers, tags],
  );
  // with no grants there is nothing to expire, and the clock is not needed
  const now = rows[0]?.db_now ?? new Date();
  const byOwner = new Map<string, GrantState[]>();
  const ownerOf = new Map<string, CreditOwner>();
  for (const r of rows) {
    const owner: CreditOwner = r.consumer_id !== null ? { consumerId: r.consumer_id } : { tag: r.tag! };
    const list = byOwner.get(ownerKey(owner)) ?? [];
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
    byOwner.set(ownerKey(owner), list);
    ownerOf.set(r.id, owner);
  }
  const movements = [...byOwner.values()].flatMap((grants) => expireDue(grants, now));
  return { byOwner, ownerOf, now, movements };
}

/**
 * Whose credit each consumer draws on: its own grants when it has any, else the pool of the first
 * of its tags (in its order) that has grants; consumers with neither are absent.
 */
/** The credit one consumer draws on; its own (empty) credit when it has none at all. */
export async function walletOf(sql: Sql, consumerId: string): Promise<CreditOwner> {
  return (await walletsOf(sql, [consumerId])).get(consumerId) ?? { consumerId };
}

export async function walletsOf(sql: Sql, consumerIds: string[]): Promise<Map<string, CreditOwner>> {
  const rows = await sql.query<{ id: string; own: boolean; pool: string | null }>(
    `SELECT c.id::text, EXISTS (SELECT 1 FROM credit_grants g WHERE g.consumer_id = c.id) AS own,
            (SELECT u.t FROM unnest(c.tags) WITH ORDINALITY AS u(t, i) WHERE EXISTS (SELECT 1 FROM credit_grants g WHERE g.tag = u.t) ORDER BY u.i LIMIT 1) AS pool
     FROM consumers c WHERE c.id = ANY($1::uuid[])`,
    [consumerIds],
  );
  const out = new Map<string, CreditOwner>();
  for (const r of rows) {
    if (r.own) out.set(r.id, { consumerId: r.id });
    else if (r.pool !== null) out.set(r.id, { tag: r.pool });
  }
  return out;
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

/** A movement, with the consumer whose call it is about (a burn of a pool's credit names it). */
export type OwnedMovement = Movement & { consumerId?: string };

/** Writes the movements and the new state of every grant they touch. */
export async function writeMovements(
  sql: Sql,
  locked: LockedGrants,
  movements: OwnedMovement[],
  note?: string,
): Promise<void> {
  if (movements.length === 0) return;
  await sql.query(
    `INSERT INTO credit_ledger (consumer_id, tag, grant_id, kind, amount, event_id, at, note)
           SELECT t.consumer_id, t.tag, t.grant_id, t.kind, t.amount, t.event_id, t.at, $8
           FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::credit_movement_kind[], $5::numeric[], $6::text[], $7::timestamptz[])
             AS t(consumer_id, tag, grant_id, kind, amount, event_id, at)`,
    [
      movements.map((m) => m.consumerId ?? locked.ownerOf.get(m.grantId)!.consumerId ?? null),
      movements.map((m) => locked.ownerOf.get(m.grantId)!.tag ?? null),
      movements.map((m) => m.grantId),
      movements.map((m) => m.kind),
      movements.map((m) => m.amount.toFixed()),
      movements.map((m) => m.eventId ?? null),
      movements.map((m) => m.at.toISOString()),
      note ?? null,
    ],
  );
  const touched = new Set(movements.map((m) => m.grantId));
  const grants = [...locked.byOwner.values()].flat().filter((g) => touched.has(g.id));
  await sql.query(
    `UPDATE credit_grants g SET remaining = t.remaining, expired = t.expired
           FROM unnest($1::uuid[], $2::numeric[], $3::numeric[]) AS t(id, remaining, expired) WHERE g.id = t.id`,
    [grants.map((g) => g.id), grants.map((g) => g.remaining.toFixed()), grants.map((g) => g.expired.toFixed())],
  );
}
