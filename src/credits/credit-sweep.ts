// The credit sweep, run on every billing tick: writes the expiries that fell due (so the ledger
// says so even when no call, grant or read touched the consumer since), and tells operators about
// credit expiring soon (credits.expiring) and credit that expired unused (credits.expired), once
// per grant.
import { raiseOnce, type AlertDeps } from "../alerts/alert.service.ts";
import type { PrismaClient } from "../db/client.ts";
import { expireDueCredit } from "./credit.service.ts";

const DAY_MS = 86_400_000;
/** Expired grants are told about for this long after their expiry (a sweep that was down catches up). */
const TELL_EXPIRED_DAYS = 7;

export async function sweepCredits(db: PrismaClient, alerts: AlertDeps | undefined, now: Date, expiringDays: number) {
  const due = await db.$queryRaw<{ consumer_id: string | null; tag: string | null }[]>`
    SELECT DISTINCT consumer_id::text, tag FROM credit_grants WHERE voided_at IS NULL AND remaining > 0 AND expires_at <= now()`;
  for (const r of due)
    await expireDueCredit(db, r.consumer_id !== null ? { consumerId: r.consumer_id } : { tag: r.tag! });
  if (!alerts) return { expiredOwners: due.length };
  const currency = alerts.config.billing.currency;
  const present = (g: {
    id: string;
    consumerId: string | null;
    tag: string | null;
    expiresAt: Date | null;
    remaining: { toFixed(): string };
    expired: { toFixed(): string };
  }) => ({
    ...(g.consumerId !== null ? { consumer_id: g.consumerId } : { tag: g.tag }),
    grant_id: g.id,
    expires_at: g.expiresAt?.toISOString() ?? null,
    remaining: g.remaining.toFixed(),
    expired: g.expired.toFixed(),
    currency,
  });
  const expired = await db.creditGrant.findMany({
    where: { expired: { gt: 0 }, expiresAt: { gt: new Date(now.getTime() - TELL_EXPIRED_DAYS * DAY_MS), lte: now } },
  });
  for (const g of expired)
    await raiseOnce(alerts, {
      type: "credits.expired",
      dedupKey: `credits.expired:${g.id}`,
      consumerId: g.consumerId ?? undefined,
      data: present(g),
    });
  if (expiringDays > 0) {
    const soon = await db.creditGrant.findMany({
      where: {
        voidedAt: null,
        remaining: { gt: 0 },
        expiresAt: { gt: now, lte: new Date(now.getTime() + expiringDays * DAY_MS) },
      },
    });
    for (const g of soon)
      await raiseOnce(alerts, {
        type: "credits.expiring",
        dedupKey: `credits.expiring:${g.id}`,
        consumerId: g.consumerId ?? undefined,
        data: present(g),
      });
  }
  return { expiredOwners: due.length };
}
