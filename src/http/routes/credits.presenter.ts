// The API shape of credit: a balance with its grants, and ledger entries. Amounts are decimal strings.
import type { creditBalance, creditLedger } from "../../credits/credit.service.ts";
import type { Credits } from "../../credits/credits.ts";
import type { Decimal } from "../../domain/money.ts";

const money = (d: Decimal) => d.toFixed();
const iso = (d: Date | null) => d?.toISOString() ?? null;

type Balance = Awaited<ReturnType<typeof creditBalance>>;
type Entry = Awaited<ReturnType<typeof creditLedger>>["entries"][number];

export function presentBalance(b: Balance, currency: string) {
  return {
    currency,
    as_of: b.now.toISOString(),
    balance: money(b.balance),
    scheduled: money(b.scheduled),
    next_expiry: b.nextExpiry
      ? { at: b.nextExpiry.at.toISOString(), amount: money(b.nextExpiry.amount), grant_id: b.nextExpiry.grantId }
      : null,
    grants: b.grants.map((g) => ({
      id: g.id,
      kind: g.kind,
      status: g.status,
      amount: money(g.amount),
      remaining: money(g.remaining),
      burnt: money(g.burnt),
      expired: money(g.expired),
      voided: money(g.voided),
      priority: g.priority,
      effective_at: g.effectiveAt.toISOString(),
      expires_at: iso(g.expiresAt),
      note: g.note,
      void_reason: g.voidReason,
      actor: g.actor,
      created_at: g.createdAt.toISOString(),
    })),
  };
}

export const presentEntry = (e: Entry) => ({
  id: e.id.toString(),
  grant_id: e.grantId,
  kind: e.kind,
  amount: e.amount.toFixed(),
  consumer_id: e.consumerId,
  event_id: e.eventId,
  at: e.at.toISOString(),
  recorded_at: e.recordedAt.toISOString(),
  note: e.note,
});

/** What a consumer sees: the credit it draws on, its prepaid settings and what authorize holds. */
export function presentConsumerCredit(v: Awaited<ReturnType<Credits["consumerView"]>>, currency: string) {
  return {
    consumer_id: v.consumerId,
    ...(v.pool !== undefined ? { pool: v.pool } : {}),
    prepaid: v.prepaid,
    low_thresholds: v.lowThresholds.map((d) => d.toFixed()),
    held: v.held ? { amount: v.held.amount.toFixed(), calls: v.held.calls } : null,
    ...presentBalance(v.balance, currency),
  };
}
