// A prepaid consumer's credit as authorize holds it: the budget hold ledger (src/budgets/) with a
// limit of 0 and a committed figure of minus the available balance, so a call is admitted when
// what is held plus its most cost fits the balance. What differs from a budget lives here: the
// balance read from PostgreSQL, when that figure goes stale (the next expiry or start of a grant),
// the refusal (402 credits_exhausted) and the credit alerts.
import { raiseOnce, type AlertDeps } from "../alerts/alert.service.ts";
import type { Db } from "../db/client.ts";
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
  prepaid: boolean;
};

/** The consumer's credit now, by PostgreSQL's clock (expiries not yet written count as expired). */
export async function creditStanding(db: Db, consumerId: string): Promise<CreditStanding> {
  const [row] = await db.$queryRaw<
    [{ balance: string; valid_until: Date | null; expiry_at: Date | null; expiry_amount: string | null; newest: string | null; thresholds: string[]; prepaid: boolean }]
  >`
    WITH g AS (SELECT * FROM credit_grants WHERE consumer_id = ${consumerId}::uuid AND voided_at IS NULL),
    live AS (SELECT * FROM g WHERE effective_at <= now() AND (expires_at IS NULL OR expires_at > now()))
    SELECT coalesce((SELECT sum(remaining) FROM live), 0)::text AS balance,
      (SELECT min(t) FROM (SELECT expires_at AS t FROM live WHERE remaining > 0 UNION ALL SELECT effective_at FROM g WHERE effective_at > now()) x) AS valid_until,
      (SELECT expires_at FROM live WHERE remaining > 0 AND expires_at IS NOT NULL ORDER BY expires_at LIMIT 1) AS expiry_at,
      (SELECT sum(remaining)::text FROM live WHERE expires_at = (SELECT min(expires_at) FROM live WHERE remaining > 0)) AS expiry_amount,
      (SELECT id::text FROM credit_grants WHERE consumer_id = ${consumerId}::uuid ORDER BY created_at DESC, id DESC LIMIT 1) AS newest,
      (SELECT coalesce(array_agg(t::text ORDER BY t), '{}') FROM consumers c, unnest(c.credit_low_thresholds) t WHERE c.id = ${consumerId}::uuid) AS thresholds,
      coalesce((SELECT prepaid FROM consumers WHERE id = ${consumerId}::uuid), false) AS prepaid`;
  return {
    balance: new Decimal(row.balance),
    validUntil: row.valid_until,
    nextExpiry: row.expiry_at ? { at: row.expiry_at, amount: new Decimal(row.expiry_amount ?? 0) } : null,
    newestGrant: row.newest,
    lowThresholds: row.thresholds.map((t) => new Decimal(t)),
    prepaid: row.prepaid,
  };
}

/** What usage and budget answers show of a consumer's credit; null when it was never granted any. */
export async function creditSummary(db: Db, consumerId: string, currency: string) {
  const s = await creditStanding(db, consumerId);
  if (!s.newestGrant) return null;
  return {
    balance: s.balance.toFixed(),
    currency,
    prepaid: s.prepaid,
    next_expiry: s.nextExpiry ? { at: s.nextExpiry.at.toISOString(), amount: s.nextExpiry.amount.toFixed() } : null,
  };
}

/** The refusal of a call the balance cannot hold. */
export function creditRefusal(currency: string, balance: Decimal, held: Decimal, needed: Decimal, nextExpiry: CreditStanding["nextExpiry"] | undefined) {
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

/** credits.low below each threshold and credits.exhausted at zero, once per threshold and top-up. */
export async function alertOnBalance(alerts: AlertDeps, consumerId: string, s: CreditStanding): Promise<void> {
  if (!s.newestGrant) return; // never granted: nothing to tell
  const currency = alerts.config.billing.currency;
  const data = { consumer_id: consumerId, balance: s.balance.toFixed(), currency, since_grant: s.newestGrant };
  for (const t of s.lowThresholds) {
    if (s.balance.gte(t)) continue;
    await raiseOnce(alerts, { type: "credits.low", dedupKey: `credits.low:${consumerId}:${t.toFixed()}:${s.newestGrant}`, consumerId, data: { ...data, threshold: t.toFixed() } });
  }
  if (s.balance.lte(0)) await creditsExhausted(alerts, consumerId, s.newestGrant, { ...data, cause: "balance_spent" });
}

/** credits.exhausted: once per top-up, whichever notices first (a refused call or the balance reaching zero). */
export async function creditsExhausted(alerts: AlertDeps, consumerId: string, newestGrant: string, data: Record<string, unknown>): Promise<void> {
  await raiseOnce(alerts, { type: "credits.exhausted", dedupKey: `credits.exhausted:${consumerId}:${newestGrant}`, consumerId, data });
}
