// Increments that a set of events adds to the TDL cells and per-consumer totals (a merged report's
// difference is an increment too: `sign` -1 takes an event's old figures out).
// TDL cells and token/cost totals count billable calls only: a call the upstream failed costs
// the consumer neither money nor slot quota.
import { ZERO, type Decimal } from "../../../src/domain/money.ts";
import type { MeteredEvent } from "./metered-event.ts";

type Sums = {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  cost: Decimal;
};
export type CellIncrement = Sums & {
  consumerId: string;
  localDate: string;
  slot: number;
  level: number;
  calls: number;
};
export type TotalIncrement = Sums & { consumerId: string; calls: number; billableCalls: number };

/** What aggregates read of an event. */
export type Contribution = Pick<
  MeteredEvent,
  | "consumerId"
  | "billable"
  | "localDate"
  | "slot"
  | "level"
  | "inputTokens"
  | "outputTokens"
  | "cachedInputTokens"
  | "cacheWriteTokens"
  | "reasoningTokens"
  | "cost"
>;

const noSums = (): Sums => ({
  inputTokens: 0,
  outputTokens: 0,
  cachedInputTokens: 0,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
  cost: ZERO,
});

function add(into: Sums, e: Contribution, sign: number): void {
  into.inputTokens += sign * e.inputTokens;
  into.outputTokens += sign * e.outputTokens;
  into.cachedInputTokens += sign * e.cachedInputTokens;
  into.cacheWriteTokens += sign * e.cacheWriteTokens;
  into.reasoningTokens += sign * e.reasoningTokens;
  into.cost = into.cost.plus(sign === 1 ? e.cost : e.cost.negated());
}

/**
 * Sums of signed contributions. `countCall` false: the call is already counted (a merge changes
 * its figures, not the number of calls); a change of billable still moves billable counts.
 */
export function aggregate(
  events: ReadonlyArray<Contribution | { event: Contribution; sign: 1 | -1; countCall: boolean }>,
): { cells: CellIncrement[]; totals: TotalIncrement[] } {
  const cells = new Map<string, CellIncrement>();
  const totals = new Map<string, TotalIncrement>();
  for (const item of events) {
    const { event: e, sign, countCall } = "event" in item ? item : { event: item, sign: 1 as const, countCall: true };
    if (!e.consumerId) continue;
    const t = totals.get(e.consumerId) ?? { consumerId: e.consumerId, calls: 0, billableCalls: 0, ...noSums() };
    if (countCall) t.calls += sign;
    totals.set(e.consumerId, t);
    if (!e.billable) continue;
    t.billableCalls += sign;
    add(t, e, sign);
    const key = `${e.consumerId}|${e.localDate}|${e.slot}|${e.level}`;
    const c = cells.get(key) ?? {
      consumerId: e.consumerId,
      localDate: e.localDate,
      slot: e.slot,
      level: e.level,
      calls: 0,
      ...noSums(),
    };
    c.calls += sign;
    add(c, e, sign);
    cells.set(key, c);
  }
  return { cells: [...cells.values()], totals: [...totals.values()] };
}
