// Invoice lines from billed usage: one line per model, direction and unit price, so a price that
// changed inside the period gives one line per price. amount = quantity x unit price, exactly.
// Late events of an already finalized period become adjustment lines naming that period and
// the events they bill; a rate correction becomes a line whose unit price is the difference.
// Each token type is its own line (see src/domain/token-types.ts): the types never overlap.
import { Decimal, ZERO } from "../domain/money.ts";
import { TOKEN_TYPES, type TokenType } from "../domain/token-types.ts";
import type { TypedUsage } from "./token-type-sql.ts";

type Direction = TokenType;

/** Billed tokens of each type at one set of prices (an aggregate of events). Null price: the event had no rate. */
export type UsageAtPrice = { model: string } & TypedUsage;

export type LateEvent = UsageAtPrice & { id: string; periodId: string; periodStartsAt: Date };

export type LineDraft = {
  position: number;
  model: string;
  /** Null on a plan fee or minimum top-up (see plan-charges.ts). */
  direction: Direction | null;
  /** Set on a plan's charges: tier_adjustment, plan_fee, minimum_top_up. */
  charge?: string | null;
  quantity: bigint;
  unitPrice: Decimal;
  amount: Decimal;
  adjustsPeriodId: string | null;
  adjustsEventIds: string[];
  priceAdjustmentId: string | null;
  /** Set on a credit line: the grant whose credit paid (see invoice-credits.ts). */
  creditGrantId?: string | null;
};

/** A rate correction of usage a finalized invoice billed (a price_adjustments row). */
export type PriceCorrection = {
  id: string;
  model: string;
  direction: Direction;
  quantity: bigint;
  fromUnitPrice: Decimal;
  toUnitPrice: Decimal;
  adjustsPeriodId: string;
  eventIds: string[];
  createdAt: Date;
};

type Acc = Omit<LineDraft, "position" | "amount" | "priceAdjustmentId" | "direction"> & {
  direction: Direction;
  periodStart: number;
};

// Current lines first; then adjustments, oldest period first; within each by model, direction, price.
function compare(a: Acc, b: Acc): number {
  return (
    a.periodStart - b.periodStart ||
    (a.model < b.model ? -1 : a.model > b.model ? 1 : 0) ||
    TOKEN_TYPES.indexOf(a.direction) - TOKEN_TYPES.indexOf(b.direction) ||
    a.unitPrice.comparedTo(b.unitPrice)
  );
}

function accumulate(
  into: Map<string, Acc>,
  u: UsageAtPrice,
  adjusts?: { periodId: string; startsAt: Date; eventId: string },
) {
  for (const direction of TOKEN_TYPES) {
    const quantity = BigInt(u[`q_${direction}`]);
    if (quantity === 0n) continue;
    const unitPrice = new Decimal(u[`p_${direction}`] ?? 0);
    const period = adjusts ? `${adjusts.startsAt.toISOString()}|${adjusts.periodId}` : "";
    const key = `${period}|${u.model}|${direction}|${unitPrice.toFixed()}`;
    const line = into.get(key) ?? {
      model: u.model,
      direction,
      quantity: 0n,
      unitPrice,
      adjustsPeriodId: adjusts?.periodId ?? null,
      adjustsEventIds: [],
      periodStart: adjusts ? adjusts.startsAt.getTime() : -Infinity,
    };
    line.quantity += quantity;
    if (adjusts) line.adjustsEventIds.push(adjusts.eventId);
    into.set(key, line);
  }
}

type FeeLine = Omit<LineDraft, "position">;

/**
 * Fee-per-request lines: this period's calls per model and fee, then late calls per period, model
 * and fee naming their events. quantity = calls, so amount = calls x fee exactly.
 */
export function requestFeeLines(
  current: Array<{ model: string; fee: string; calls: bigint }>,
  late: Array<LateEvent & { fee: string }>,
): FeeLine[] {
  const line = (
    model: string,
    fee: string,
    calls: bigint,
    adjustsPeriodId: string | null,
    adjustsEventIds: string[],
  ): FeeLine => ({
    model,
    direction: null,
    charge: "request_fee",
    quantity: calls,
    unitPrice: new Decimal(fee),
    amount: new Decimal(fee).times(calls.toString()),
    adjustsPeriodId,
    adjustsEventIds,
    priceAdjustmentId: null,
  });
  const byPeriod = new Map<string, { e: LateEvent & { fee: string }; ids: string[] }>();
  for (const e of late) {
    const key = `${e.periodStartsAt.toISOString()}|${e.periodId}|${e.model}|${new Decimal(e.fee).toFixed()}`;
    const g = byPeriod.get(key) ?? { e, ids: [] };
    g.ids.push(e.id);
    byPeriod.set(key, g);
  }
  const sorted = <T>(xs: T[], key: (x: T) => string) =>
    [...xs].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  return [
    ...sorted(current, (c) => `${c.model}|${c.fee}`).map((c) => line(c.model, c.fee, c.calls, null, [])),
    ...sorted([...byPeriod.entries()], ([k]) => k).map(([, g]) =>
      line(g.e.model, g.e.fee, BigInt(g.ids.length), g.e.periodId, [...g.ids].sort()),
    ),
  ];
}

/**
 * Usage lines, then fee-per-request lines, then late-usage lines by period, then corrections in the order they were
 * made.
 */
export function buildLines(
  current: UsageAtPrice[],
  late: LateEvent[],
  corrections: PriceCorrection[] = [],
  fees: FeeLine[] = [],
): LineDraft[] {
  const lines = new Map<string, Acc>();
  for (const u of current) accumulate(lines, u);
  for (const e of late) accumulate(lines, e, { periodId: e.periodId, startsAt: e.periodStartsAt, eventId: e.id });
  const usage = [...lines.values()].sort(compare).map(({ periodStart: _, ...l }) => ({
    ...l,
    adjustsEventIds: [...l.adjustsEventIds].sort(),
    priceAdjustmentId: null,
    amount: new Decimal(l.quantity.toString()).times(l.unitPrice),
  }));
  const corrected = [...corrections]
    .sort(
      (a, b) =>
        a.createdAt.getTime() - b.createdAt.getTime() ||
        (a.model < b.model ? -1 : a.model > b.model ? 1 : 0) ||
        TOKEN_TYPES.indexOf(a.direction) - TOKEN_TYPES.indexOf(b.direction) ||
        (a.id < b.id ? -1 : 1),
    )
    .map((c) => {
      const unitPrice = c.toUnitPrice.minus(c.fromUnitPrice);
      return {
        model: c.model,
        direction: c.direction,
        quantity: c.quantity,
        unitPrice,
        amount: new Decimal(c.quantity.toString()).times(unitPrice),
        adjustsPeriodId: c.adjustsPeriodId,
        adjustsEventIds: [...c.eventIds].sort(),
        priceAdjustmentId: c.id,
      };
    });
  return [...usage, ...fees, ...corrected].map((l, i) => ({ ...l, position: i + 1 }));
}

export function subtotalOf(lines: readonly LineDraft[]): Decimal {
  return lines.reduce((s, l) => s.plus(l.amount), ZERO);
}
