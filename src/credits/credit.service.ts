// Granting, voiding and reading the credit of a consumer or of a tag's pool. Each write takes the
// owner's grant locks (credit-store.ts), so it is ordered against the meter burning the same
// grants, and first writes the expiries that are due: the balance read is the ledger's sum at
// that instant.
import type { Db, PrismaClient } from "../db/client.ts";
import { prismaSql } from "../db/sql.ts";
import { conflict, notFound } from "../domain/errors.ts";
import { Decimal, ZERO } from "../domain/money.ts";
import type { GrantState } from "./burn.ts";
import { ownerKey } from "../budgets/budget.ts";
import { lockGrants, writeMovements, type CreditOwner, type LockedGrants } from "./credit-store.ts";

export const GRANT_KINDS = ["purchase", "promotion", "adjustment"] as const;
type GrantKind = (typeof GRANT_KINDS)[number];

export type GrantInput = {
  amount: Decimal;
  priority: number;
  effectiveAt: Date;
  expiresAt: Date | null;
  kind: GrantKind;
  note?: string;
};

/** The owner as Prisma filters it. */
const whereOwner = (o: CreditOwner) => (o.consumerId !== undefined ? { consumerId: o.consumerId } : { tag: o.tag });
const whose = (o: CreditOwner) => (o.consumerId !== undefined ? "this consumer" : `tag ${o.tag}`);

/** Runs `work` with the owner's grants locked and due expiries written. */
async function withGrants<T>(
  db: PrismaClient,
  owner: CreditOwner,
  work: (tx: Db, locked: LockedGrants, grants: GrantState[]) => Promise<T>,
): Promise<T> {
  return db.$transaction(async (tx) => {
    const sql = prismaSql(tx);
    const locked = await lockGrants(sql, [owner]);
    await writeMovements(sql, locked, locked.movements);
    return work(tx, locked, locked.byOwner.get(ownerKey(owner)) ?? []);
  });
}

/** Writes the owner's due expiries (what withGrants does first) and nothing else. */
export const expireDueCredit = (db: PrismaClient, owner: CreditOwner) => withGrants(db, owner, async () => undefined);

export async function grantCredit(db: PrismaClient, owner: CreditOwner, g: GrantInput, actor: string) {
  return withGrants(db, owner, async (tx) => {
    const amount = g.amount.toFixed();
    const grant = await tx.creditGrant.create({
      data: {
        ...whereOwner(owner),
        amount,
        remaining: amount,
        priority: g.priority,
        effectiveAt: g.effectiveAt,
        expiresAt: g.expiresAt,
        kind: g.kind,
        note: g.note ?? null,
        actor,
      },
    });
    await tx.creditLedgerEntry.create({
      data: { ...whereOwner(owner), grantId: grant.id, kind: "grant", amount, at: g.effectiveAt, note: g.note ?? null },
    });
    return grant.id;
  });
}

/** Voids what is left of a grant; what it already paid for stays paid. */
export async function voidGrant(db: PrismaClient, owner: CreditOwner, grantId: string, reason: string, actor: string) {
  return withGrants(db, owner, async (tx, locked, grants) => {
    const g = grants.find((x) => x.id === grantId);
    if (!g) throw notFound(`grant: ${grantId} is not a grant of ${whose(owner)}`);
    if (g.voided) throw conflict(`grant: ${grantId} is voided already`, "grant");
    const now = locked.now; // PostgreSQL's clock: the grant was found, so it was read with it
    const voided = g.remaining;
    g.remaining = ZERO;
    g.voided = true;
    const movements = voided.isZero() ? [] : [{ grantId, kind: "void" as const, amount: voided.negated(), at: now }];
    await writeMovements(prismaSql(tx), locked, movements, `${reason} (${actor})`);
    await tx.creditGrant.update({ where: { id: grantId }, data: { voidedAt: now, voidReason: reason } });
    return voided;
  });
}

export type GrantStatus = "scheduled" | "active" | "spent" | "expired" | "voided";

function statusOf(
  g: { effectiveAt: Date; expiresAt: Date | null; voidedAt: Date | null; remaining: Decimal },
  now: Date,
): GrantStatus {
  if (g.voidedAt) return "voided";
  if (g.expiresAt && g.expiresAt <= now) return "expired";
  if (g.effectiveAt > now) return "scheduled";
  return g.remaining.isZero() ? "spent" : "active";
}

/**
 * The balance (what calls can burn now), what is scheduled, the next expiry, and every grant with its movements summed
 * by kind.
 */
export async function creditBalance(db: PrismaClient, owner: CreditOwner) {
  return withGrants(db, owner, async (tx, locked) => {
    const now = locked.byOwner.size ? locked.now : (await tx.$queryRaw<[{ now: Date }]>`SELECT now() AS now`)[0].now;
    const rows = await tx.creditGrant.findMany({
      where: whereOwner(owner),
      orderBy: [{ priority: "asc" }, { createdAt: "asc" }],
    });
    const sums = await tx.creditLedgerEntry.groupBy({
      by: ["grantId", "kind"],
      where: { grantId: { in: rows.map((r) => r.id) } },
      _sum: { amount: true },
    });
    const sumOf = (grantId: string, kind: string) =>
      new Decimal(sums.find((s) => s.grantId === grantId && s.kind === kind)?._sum.amount?.toFixed() ?? 0);
    const grants = rows.map((r) => {
      const remaining = new Decimal(r.remaining.toFixed());
      return {
        id: r.id,
        kind: r.kind,
        amount: new Decimal(r.amount.toFixed()),
        remaining,
        burnt: sumOf(r.id, "burn").plus(sumOf(r.id, "correction")).negated(),
        expired: sumOf(r.id, "expiry").negated(),
        voided: sumOf(r.id, "void").negated(),
        priority: r.priority,
        effectiveAt: r.effectiveAt,
        expiresAt: r.expiresAt,
        status: statusOf({ ...r, remaining }, now),
        note: r.note,
        voidReason: r.voidReason,
        actor: r.actor,
        createdAt: r.createdAt,
      };
    });
    const live = grants.filter((g) => g.status === "active");
    const expiring = live.filter((g) => g.expiresAt).sort((a, b) => a.expiresAt!.getTime() - b.expiresAt!.getTime())[0];
    return {
      now,
      balance: live.reduce((a, g) => a.plus(g.remaining), ZERO),
      scheduled: grants.filter((g) => g.status === "scheduled").reduce((a, g) => a.plus(g.remaining), ZERO),
      nextExpiry: expiring ? { at: expiring.expiresAt!, amount: expiring.remaining, grantId: expiring.id } : null,
      grants,
    };
  });
}

export type LedgerQuery = { from?: Date; to?: Date; limit: number; after?: bigint };

/**
 * The ledger, oldest first, a page at a time (`after`: the last id of the previous page): a
 * consumer's own grants' movements and its calls' burns (of a pool's credit too), or a pool's.
 */
export async function creditLedger(db: Db, owner: CreditOwner, q: LedgerQuery) {
  const rows = await db.creditLedgerEntry.findMany({
    where: {
      ...whereOwner(owner),
      at: { gte: q.from, lt: q.to },
      ...(q.after !== undefined ? { id: { gt: q.after } } : {}),
    },
    orderBy: { id: "asc" },
    take: q.limit + 1,
  });
  return { entries: rows.slice(0, q.limit), more: rows.length > q.limit };
}
