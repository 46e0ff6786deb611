// How metered cost burns a consumer's credit grants. Pure: the grants' states in, the ledger's
// movements out, in decimals.
//
// Rules (README "Prepaid credits"):
// - A call may burn a grant whose window holds the call's time: effective at or before it, and
//   expiring after it. Voided grants are burnt no further.
// - Grants burn in order: priority (lower first), then soonest expiry (never-expiring last), then
//   the oldest (effective, then created), then id.
// - A call is settled to its cost: what credit already covers it is compared with its cost now,
//   and only the difference moves. A call whose cost rose (a later report, repricing) burns more;
//   one whose cost fell gets credit back, from the grants it burnt last. So redelivery moves
//   nothing, and every change moves the ledger by exactly its difference.
// - A grant that expired unused keeps what expired: a call dated inside its window that is
//   metered late still burns it (the expiry is corrected by what the call takes), so a late call
//   is covered as it would have been on time. Credit given back to an expired or voided grant
//   expires or is voided again at once.
import { Decimal, ZERO } from "../domain/money.ts";

export type GrantState = {
  id: string;
  priority: number;
  effectiveAt: Date;
  expiresAt: Date | null;
  createdAt: Date;
  /** What can still be burnt: granted, less burnt, voided and expired. */
  remaining: Decimal;
  /** What expired unused (a late call inside the window may still burn it). */
  expired: Decimal;
  voided: boolean;
};

type MovementKind = "burn" | "expiry" | "void" | "correction";

/** One ledger movement: signed, positive adds to the balance. `at` is when it takes effect. */
export type Movement = { grantId: string; kind: MovementKind; amount: Decimal; at: Date; eventId?: string };

const time = (d: Date | null) => (d === null ? Infinity : d.getTime());

/** The burn order: priority, soonest expiry (none last), oldest effective, oldest created, id. */
export function burnOrder(a: GrantState, b: GrantState): number {
  return (
    a.priority - b.priority ||
    time(a.expiresAt) - time(b.expiresAt) ||
    a.effectiveAt.getTime() - b.effectiveAt.getTime() ||
    a.createdAt.getTime() - b.createdAt.getTime() ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/** Whether a call at `at` may burn the grant. */
export const covers = (g: GrantState, at: Date) =>
  !g.voided && g.effectiveAt <= at && (g.expiresAt === null || at < g.expiresAt);

const isExpired = (g: GrantState, now: Date) => g.expiresAt !== null && g.expiresAt <= now;

/** Grants past their expiry with something left: that part expires, at the grant's expiry instant. */
export function expireDue(grants: GrantState[], now: Date): Movement[] {
  const out: Movement[] = [];
  for (const g of grants) {
    if (!isExpired(g, now) || g.voided || g.remaining.isZero()) continue;
    out.push({ grantId: g.id, kind: "expiry", amount: g.remaining.negated(), at: g.expiresAt! });
    g.expired = g.expired.plus(g.remaining);
    g.remaining = ZERO;
  }
  return out;
}

/** What a grant can give a call now: its remaining part, or, once expired, what expired unused. */
const availableOf = (g: GrantState, now: Date) => (isExpired(g, now) ? g.expired : g.remaining);

function take(g: GrantState, amount: Decimal, eventId: string, at: Date, now: Date): Movement[] {
  const burn: Movement = { grantId: g.id, kind: "burn", amount: amount.negated(), at, eventId };
  if (!isExpired(g, now)) {
    g.remaining = g.remaining.minus(amount);
    return [burn];
  }
  // the call falls inside the window: it takes what had expired, and the expiry shrinks by as much
  g.expired = g.expired.minus(amount);
  return [{ grantId: g.id, kind: "expiry", amount, at: g.expiresAt!, eventId }, burn];
}

function giveBack(g: GrantState, amount: Decimal, eventId: string, at: Date, now: Date): Movement[] {
  const back: Movement = { grantId: g.id, kind: "correction", amount, at, eventId };
  if (g.voided) return [back, { grantId: g.id, kind: "void", amount: amount.negated(), at, eventId }];
  if (isExpired(g, now)) {
    g.expired = g.expired.plus(amount);
    return [back, { grantId: g.id, kind: "expiry", amount: amount.negated(), at: g.expiresAt!, eventId }];
  }
  g.remaining = g.remaining.plus(amount);
  return [back];
}

export type CallToSettle = {
  eventId: string;
  at: Date;
  /** The call's billed cost now, and before this change (0 for a call just metered). */
  cost: Decimal;
  previousCost: Decimal;
  /** What credit covers it already, per grant (net of earlier movements). */
  credited: ReadonlyMap<string, Decimal>;
};

/**
 * Settles one call's change of cost: burns a rise from the grants that cover the call, in burn
 * order, or gives back what credit covers beyond the new cost, in reverse order. Mutates
 * `grants`. Returns the movements; what credit cannot cover stays due on the invoice.
 */
export function settleCall(grants: GrantState[], call: CallToSettle, now: Date): Movement[] {
  const covered = [...call.credited.values()].reduce((a, b) => a.plus(b), ZERO);
  const cost = Decimal.max(call.cost, ZERO);
  const rise = cost.minus(Decimal.max(call.previousCost, ZERO));
  const out: Movement[] = [];
  if (rise.gt(0)) {
    let left = Decimal.min(rise, cost.minus(covered));
    for (const g of grants.filter((x) => covers(x, call.at)).sort(burnOrder)) {
      if (left.isZero()) break;
      const part = Decimal.min(left, availableOf(g, now));
      if (part.lte(0)) continue;
      out.push(...take(g, part, call.eventId, call.at, now));
      left = left.minus(part);
    }
  } else if (cost.lt(covered)) {
    let excess = covered.minus(cost);
    const burnt = grants
      .filter((g) => (call.credited.get(g.id) ?? ZERO).gt(0))
      .sort(burnOrder)
      .reverse();
    for (const g of burnt) {
      if (excess.isZero()) break;
      const part = Decimal.min(excess, call.credited.get(g.id)!);
      out.push(...giveBack(g, part, call.eventId, call.at, now));
      excess = excess.minus(part);
    }
  }
  return out;
}

/** What credit covers each call, per grant: the net of its burns and corrections. */
export function creditedByCall(
  movements: ReadonlyArray<Pick<Movement, "grantId" | "kind" | "amount" | "eventId">>,
): Map<string, Map<string, Decimal>> {
  const out = new Map<string, Map<string, Decimal>>();
  for (const m of movements) {
    if (!m.eventId || (m.kind !== "burn" && m.kind !== "correction")) continue;
    const byGrant = out.get(m.eventId) ?? new Map<string, Decimal>();
    byGrant.set(m.grantId, (byGrant.get(m.grantId) ?? ZERO).minus(m.amount));
    out.set(m.eventId, byGrant);
  }
  return out;
}
