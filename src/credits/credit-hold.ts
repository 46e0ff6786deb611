// A prepaid consumer's credit as authorize holds it: the budget hold ledger (src/budgets/) with a
// limit of 0 and a committed figure of minus the available balance, so a call is admitted when
// what is held plus its most cost fits the balance. What differs from a budget lives here: the
// balance read from PostgreSQL, when that figure goes stale (the next expiry or start of a grant),
// the refusal (402 credits_exhausted) and the credit alerts.
import { raiseOnce, type AlertDeps } from "../alerts/alert.service.ts";
import { ownerKey } from "../budgets/budget.ts";
import { Prisma, type Db } from "../db/client.ts";
import { prismaSql } from "../db/sql.ts";
import { walletsOf, type CreditOwner } from "./credit-store.ts";
import { Decimal } from "../domain/money.ts";

export type CreditStanding = {
  /** What calls can burn now: active grants' remaining parts. */
  balance: Decimal;
  /** When the balance changes without a call: the next expiry or start of a grant (null: never). */
  validUntil: Date | null;
  /** The soonest expiry of credit with something left. */
  nextExpiry: { at: Date; amount: Decimal } | null;
  /** The newest grant: a low or exhausted balance is told once per top-up. */
  newestGrant: string | null;
  lowThresholds: Decimal[];
};

const ownerFilter = (o: CreditOwner) =>
  o.consumerId !== undefined ? Prisma.sql`consumer_id = ${o.consumerId}::uuid` : Prisma.sql`tag = ${o.tag}`;

/** The owner's credit now, by PostgreSQL's clock (expiries not yet written count as expired). */
export async function creditStanding(db: Db, owner: CreditOwner): Promise<CreditStanding> {
  const consumerId = owner.consumerId ?? null;
  const [row] = await db.$queryRaw<
    [
      {
        balance: string;
        valid_until: Date | null;
        expiry_at: Date | null;
        expiry_amount: string | null;
        newest: string | null;
        thresholds: string[];
      },
    ]
  >`
    WITH g AS (SELECT * FROM credit_grants WHERE ${ownerFilter(owner)} AND voided_at IS NULL),
    live AS (SELECT * FROM g WHERE effective_at <= now() AND (expires_at IS NULL OR expires_at > now()))
    SELECT coalesce((SELECT sum(remaining) FROM live), 0)::text AS balance,
      (SELECT min(t) FROM (SELECT expires_at AS t FROM live WHERE remaining > 0 UNION ALL SELECT effective_at FROM g WHERE effective_at > now()) x) AS valid_until,
      (SELECT expires_at FROM live WHERE remaining > 0 AND expires_at IS NOT NULL ORDER BY expires_at LIMIT 1) AS expiry_at,
      (SELECT sum(remaining)::text FROM live WHERE expires_at = (SELECT min(expires_at) FROM live WHERE remaining > 0)) AS expiry_amount,
      (SELECT id::text FROM credit_grants WHERE ${ownerFilter(owner)} ORDER BY created_at DESC, id DESC LIMIT 1) AS newest,
      (SELECT coalesce(array_agg(t::text ORDER BY t), '{}') FROM consumers c, unnest(c.credit_low_thresholds) t WHERE c.id = ${consumerId}::uuid) AS thresholds`;
  return {
    balance: new Decimal(row.balance),
    validUntil: row.valid_until,
    nextExpiry: row.expiry_at ? { at: row.expiry_at, amount: new Decimal(row.expiry_amount ?? 0) } : null,
    newestGrant: row.newest,
    lowThresholds: row.thresholds.map((t) => new Decimal(t)),
  };
}

/** What usage and budget answers show of the credit a consumer draws on; null when it has none. */
export async function creditSummary(db: Db, consumerId: string, currency: string) {
  const wallet = (await walletsOf(prismaSql(db), [consumerId])).get(consumerId);
  if (!wallet) return null;
  const s = await creditStanding(db, wallet);
  const prepaid =
    (await db.consumer.findUnique({ where: { id: consumerId }, select: { prepaid: true } }))?.prepaid ?? false;
  return {
    balance: s.balance.toFixed(),
    currency,
    prepaid,
    ...(wallet.tag !== undefined ? { pool: wallet.tag } : {}),
    next_expiry: s.nextExpiry ? { at: s.nextExpiry.at.toISOString(), amount: s.nextExpiry.amount.toFixed() } : null,
  };
}

/** The refusal of a call the balance cannot hold. */
export function creditRefusal(
  currency: string,
  balance: Decimal,
  held: Decimal,
  needed: Decimal,
  nextExpiry: CreditStanding["nextExpiry"] | undefined,
) {
  const available = Decimal.max(0, balance.minus(held));
  return {
    code: "credits_exhausted" as const,
    message: `the prepaid balance cannot hold this call: up to ${needed.toFixed()} ${currency} needed, ${available.toFixed()} available (${balance.toFixed()} balance, ${held.toFixed()} held for calls in flight)`,
    balance: balance.toFixed(),
    available: available.toFixed(),
    needed: needed.toFixed(),
    currency,
    next_expiry: nextExpiry ? { at: nextExpiry.at.toISOString(), amount: nextExpiry.amount.toFixed() } : null,
  };
}

/** Who the credit is, as alerts and answers name it. */
export const creditOwnerJson = (o: CreditOwner) =>
  o.consumerId !== undefined ? { consumer_id: o.consumerId } : { tag: o.tag };

/** credits.low below each threshold and credits.exhausted at zero, once per threshold and top-up. */
export async function alertOnBalance(alerts: AlertDeps, owner: CreditOwner, s: CreditStanding): Promise<void> {
  if (!s.newestGrant) return; // never granted: nothing to tell
  const currency = alerts.config.billing.currency;
  const data = { ...creditOwnerJson(owner), balance: s.balance.toFixed(), currency, since_grant: s.newestGrant };
  for (const t of s.lowThresholds) {
    if (s.balance.gte(t)) continue;
    const dedupKey = `credits.low:${ownerKey(owner)}:${t.toFixed()}:${s.newestGrant}`;
    await raiseOnce(alerts, {
      type: "credits.low",
      dedupKey,
      consumerId: owner.consumerId,
      data: { ...data, threshold: t.toFixed() },
    });
  }
  if (s.balance.lte(0)) await creditsExhausted(alerts, owner, s.newestGrant, { ...data, cause: "balance_spent" });
}

/** credits.exhausted: once per top-up, whichever notices first (a refused call or the balance reaching zero). */
export async function creditsExhausted(
  alerts: AlertDeps,
  owner: CreditOwner,
  newestGrant: string,
  data: Record<string, unknown>,
): Promise<void> {
  await raiseOnce(alerts, {
    type: "credits.exhausted",
    dedupKey: `credits.exhausted:${ownerKey(owner)}:${newestGrant}`,
    consumerId: owner.consumerId,
    data,
  });
}
