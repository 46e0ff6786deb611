// Increments that a set of newly inserted events adds to the TDL cells and per-consumer totals.
// TDL cells and token/cost totals count billable calls only: a call the upstream failed costs
// the consumer neither money nor slot quota.
import { ZERO, type Decimal } from "../../../src/domain/money.ts";
import type { MeteredEvent } from "./metered-event.ts";

export type CellIncrement = {
  consumerId: string;
  localDate: string;
  slot: number;
  level: number;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cost: Decimal;
};

export type TotalIncrement = {
  consumerId: string;
  calls: number;
  billableCalls: number;
  inputTokens: number;
  outputTokens: number;
  cost: Decimal;
};

export function aggregate(events: readonly MeteredEvent[]): { cells: CellIncrement[]; totals: TotalIncrement[] } {
  const cells = new Map<string, CellIncrement>();
  const totals = new Map<string, TotalIncrement>();
  for (const e of events) {
    if (!e.consumerId) continue;
    const t = totals.get(e.consumerId) ?? {
      consumerId: e.consumerId, calls: 0, billableCalls: 0, inputTokens: 0, outputTokens: 0, cost: ZERO,
    };
    t.calls++;
    totals.set(e.consumerId, t);
    if (!e.billable) continue;
    t.billableCalls++;
    t.inputTokens += e.inputTokens;
    t.outputTokens += e.outputTokens;
    t.cost = t.cost.plus(e.cost);
    const key = `${e.consumerId}|${e.localDate}|${e.slot}|${e.level}`;
    const c = cells.get(key) ?? {
      consumerId: e.consumerId, localDate: e.localDate, slot: e.slot, level: e.level,
      calls: 0, inputTokens: 0, outputTokens: 0, cost: ZERO,
    };
    c.calls++;
    c.inputTokens += e.inputTokens;
    c.outputTokens += e.outputTokens;
    c.cost = c.cost.plus(e.cost);
    cells.set(key, c);
  }
  // A fixed order for row locks, so two transactions touching the same rows cannot deadlock.
  const sortedCells = [...cells.values()].sort((a, b) =>
    `${a.consumerId}|${a.localDate}|${String(a.slot).padStart(2, "0")}|${a.level}`.localeCompare(
      `${b.consumerId}|${b.localDate}|${String(b.slot).padStart(2, "0")}|${b.level}`,
    ),
  );
  const sortedTotals = [...totals.values()].sort((a, b) => a.consumerId.localeCompare(b.consumerId));
  return { cells: sortedCells, totals: sortedTotals };
}


