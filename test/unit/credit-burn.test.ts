// Property: however grants, calls, redeliveries, late calls, cost changes, expiries and voids
// interleave, each grant's ledger sums to what it has left, no call is credited more than it costs,
// a redelivery moves nothing, and a call burns a grant only when every grant before it in the
// burn order that covers the call is spent.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  burnOrder,
  covers,
  creditedByCall,
  expireDue,
  settleCall,
  type GrantState,
  type Movement,
} from "../../src/credits/burn.ts";
import { Decimal, ZERO } from "../../src/domain/money.ts";

const runs = Number(process.env.PROPERTY_RUNS ?? 300);
const HOUR = 3_600_000;
const T0 = Date.parse("2027-01-01T00:00:00Z");
const micro = (n: number) => new Decimal(n).div(1_000_000);

const grantArb = fc.record({
  amount: fc.integer({ min: 1, max: 50_000_000 }),
  priority: fc.integer({ min: 0, max: 3 }),
  effectiveHour: fc.integer({ min: 0, max: 20 }),
  lifeHours: fc.option(fc.integer({ min: 1, max: 40 }), { nil: null }),
});
const stepArb = fc.oneof(
  fc.record({
    op: fc.constant("call" as const),
    hour: fc.integer({ min: 0, max: 60 }),
    cost: fc.integer({ min: 0, max: 30_000_000 }),
  }),
  fc.record({ op: fc.constant("recost" as const), which: fc.nat(), cost: fc.integer({ min: 0, max: 30_000_000 }) }),
  fc.record({ op: fc.constant("redeliver" as const), which: fc.nat() }),
  fc.record({ op: fc.constant("advance" as const), hours: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ op: fc.constant("void" as const), which: fc.nat() }),
);

describe("credit burn-down", () => {
  it("keeps the ledger, the grants and the burn order consistent", () => {
    fc.assert(
      fc.property(
        fc.array(grantArb, { minLength: 1, maxLength: 6 }),
        fc.array(stepArb, { maxLength: 40 }),
        (specs, steps) => {
          const grants: GrantState[] = specs.map((s, i) => ({
            id: `g${i}`,
            priority: s.priority,
            effectiveAt: new Date(T0 + s.effectiveHour * HOUR),
            expiresAt: s.lifeHours === null ? null : new Date(T0 + (s.effectiveHour + s.lifeHours) * HOUR),
            createdAt: new Date(T0 + i),
            remaining: micro(s.amount),
            expired: ZERO,
            voided: false,
          }));
          const granted = new Map(grants.map((g, i) => [g.id, micro(specs[i]!.amount)]));
          const ledger: Movement[] = [];
          // settled: the cost the ledger last settled the call to
          const calls: Array<{ id: string; at: Date; cost: Decimal; settled: Decimal }> = [];
          let now = new Date(T0);
          const settle = (call: { id: string; at: Date; cost: Decimal; settled: Decimal }) => {
            ledger.push(...expireDue(grants, now));
            const credited = creditedByCall(ledger).get(call.id) ?? new Map();
            const before = new Map(grants.map((g) => [g.id, { remaining: g.remaining, expired: g.expired }]));
            const moves = settleCall(
              grants,
              { eventId: call.id, at: call.at, cost: call.cost, previousCost: call.settled, credited },
              now,
            );
            call.settled = call.cost;
            ledger.push(...moves);
            return { moves, before };
          };
          for (const step of steps) {
            if (step.op === "advance") now = new Date(now.getTime() + step.hours * HOUR);
            if (step.op === "void" && grants.length) {
              const g = grants[step.which % grants.length]!;
              if (!g.voided) {
                ledger.push(...expireDue(grants, now));
                if (!g.remaining.isZero())
                  ledger.push({ grantId: g.id, kind: "void", amount: g.remaining.negated(), at: now });
                g.remaining = ZERO;
                g.voided = true;
              }
            }
            if (step.op === "call") {
              // calls are dated up to a day before now: late calls fall in windows that already closed
              const call = {
                id: `e${calls.length}`,
                at: new Date(Math.min(now.getTime(), T0 + step.hour * HOUR)),
                cost: micro(step.cost),
                settled: ZERO,
              };
              calls.push(call);
              const { moves, before } = settle(call);
              // burn order: a grant this call burnt has every covering grant before it spent
              const burnt = new Set(moves.filter((m) => m.kind === "burn").map((m) => m.grantId));
              const order = grants.filter((g) => covers(g, call.at)).sort(burnOrder);
              const last = Math.max(-1, ...order.map((g, i) => (burnt.has(g.id) ? i : -1)));
              // nothing burnt (a call of no cost, or nothing left): no order to check
              for (const g of last < 0 ? [] : order.slice(0, last)) {
                const left = g.expiresAt !== null && g.expiresAt <= now ? g.expired : g.remaining;
                assert.ok(left.isZero(), `${g.id} comes before a burnt grant in the order and still has ${left}`);
              }
              // coverage: credited is the cost, or everything the covering grants had
              const had = order.reduce(
                (a, g) =>
                  a.plus(
                    g.expiresAt !== null && g.expiresAt <= now
                      ? before.get(g.id)!.expired
                      : before.get(g.id)!.remaining,
                  ),
                ZERO,
              );
              const credited = [...(creditedByCall(ledger).get(call.id)?.values() ?? [])].reduce(
                (a, b) => a.plus(b),
                ZERO,
              );
              assert.equal(credited.toFixed(), Decimal.min(call.cost, had).toFixed());
            }
            if (step.op === "recost" && calls.length) {
              const call = calls[step.which % calls.length]!;
              call.cost = micro(step.cost);
              settle(call);
            }
            if (step.op === "redeliver" && calls.length) {
              const { moves } = settle(calls[step.which % calls.length]!);
              assert.deepEqual(moves, [], "a redelivered call moves nothing, even with credit freed since");
            }
          }
          ledger.push(...expireDue(grants, now));
          for (const g of grants) {
            const sum = ledger.filter((m) => m.grantId === g.id).reduce((a, m) => a.plus(m.amount), granted.get(g.id)!);
            assert.equal(sum.toFixed(), g.remaining.toFixed(), `grant ${g.id}: ledger sums to what it has left`);
            assert.ok(g.remaining.gte(0) && g.expired.gte(0), `grant ${g.id} never below zero`);
          }
          for (const [id, byGrant] of creditedByCall(ledger)) {
            const call = calls.find((c) => c.id === id)!;
            const total = [...byGrant.values()].reduce((a, b) => a.plus(b), ZERO);
            assert.ok(total.lte(call.cost), `call ${id} credited ${total} for a cost of ${call.cost}`);
            for (const v of byGrant.values()) assert.ok(v.gte(0), `call ${id} has a negative credit from one grant`);
          }
        },
      ),
      { numRuns: runs },
    );
  });
});

describe("credit burn-down rules", () => {
  const grant = (id: string, o: Partial<GrantState> = {}): GrantState => ({
    id,
    priority: 1,
    effectiveAt: new Date(T0),
    expiresAt: null,
    createdAt: new Date(T0),
    remaining: new Decimal(10),
    expired: ZERO,
    voided: false,
    ...o,
  });
  const sum = (ms: Movement[]) => ms.reduce((a, m) => a.plus(m.amount), ZERO).toFixed();

  it("burns by priority, then soonest expiry, then the oldest", () => {
    const gs = [
      grant("late", { effectiveAt: new Date(T0 + 1) }),
      grant("never"),
      grant("soon", { expiresAt: new Date(T0 + 10 * HOUR) }),
      grant("first", { priority: 0 }),
    ];
    const moves = settleCall(
      gs,
      { eventId: "e", at: new Date(T0 + HOUR), cost: new Decimal(35), previousCost: ZERO, credited: new Map() },
      new Date(T0 + HOUR),
    );
    assert.deepEqual(
      moves.map((m) => [m.grantId, m.amount.toFixed()]),
      [
        ["first", "-10"],
        ["soon", "-10"],
        ["never", "-10"],
        ["late", "-5"],
      ],
    );
  });

  it("credit given back to a voided grant is voided again, and to an expired one expires again", () => {
    const voided = grant("v", { remaining: ZERO, voided: true });
    const expired = grant("x", { remaining: ZERO, expiresAt: new Date(T0 + HOUR) });
    const credited = new Map([
      ["v", new Decimal(4)],
      ["x", new Decimal(3)],
    ]);
    const moves = settleCall(
      [voided, expired],
      { eventId: "e", at: new Date(T0), cost: new Decimal(1), previousCost: new Decimal(7), credited },
      new Date(T0 + 2 * HOUR),
    );
    assert.equal(sum(moves), "0", "the balance does not grow from credit that is gone");
    assert.deepEqual(moves.map((m) => m.kind).sort(), ["correction", "correction", "expiry", "void"]);
    assert.equal(
      expired.expired.toFixed(),
      "2",
      "given back last-burnt first: 4 to the voided grant, 2 to the expired one",
    );
  });

  it("a call left partly due is not covered later by credit freed since: only changes of cost move credit", () => {
    const g = grant("only", { remaining: new Decimal(5) });
    const first = settleCall(
      [g],
      { eventId: "e", at: new Date(T0), cost: new Decimal(8), previousCost: ZERO, credited: new Map() },
      new Date(T0),
    );
    assert.equal(sum(first), "-5", "5 covered, 3 due");
    g.remaining = new Decimal(10); // a top-up, say
    const again = settleCall(
      [g],
      {
        eventId: "e",
        at: new Date(T0),
        cost: new Decimal(8),
        previousCost: new Decimal(8),
        credited: new Map([["only", new Decimal(5)]]),
      },
      new Date(T0),
    );
    assert.deepEqual(again, []);
    const rose = settleCall(
      [g],
      {
        eventId: "e",
        at: new Date(T0),
        cost: new Decimal(9),
        previousCost: new Decimal(8),
        credited: new Map([["only", new Decimal(5)]]),
      },
      new Date(T0),
    );
    assert.equal(sum(rose), "-1", "the rise is burnt, not the 3 left due");
    const fell = settleCall(
      [g],
      {
        eventId: "e",
        at: new Date(T0),
        cost: new Decimal(4),
        previousCost: new Decimal(9),
        credited: new Map([["only", new Decimal(6)]]),
      },
      new Date(T0),
    );
    assert.equal(sum(fell), "2", "credit beyond the new cost comes back");
  });

  it("a call metered after its grant expired burns what expired, inside the grant's window", () => {
    const g = grant("x", { expiresAt: new Date(T0 + HOUR) });
    const expiry = expireDue([g], new Date(T0 + 2 * HOUR));
    assert.equal(sum(expiry), "-10");
    const moves = settleCall(
      [g],
      { eventId: "e", at: new Date(T0 + 30 * 60_000), cost: new Decimal(4), previousCost: ZERO, credited: new Map() },
      new Date(T0 + 2 * HOUR),
    );
    assert.deepEqual(
      moves.map((m) => [m.kind, m.amount.toFixed()]),
      [
        ["expiry", "4"],
        ["burn", "-4"],
      ],
    );
    assert.equal(g.expired.toFixed(), "6");
    const outside = settleCall(
      [g],
      { eventId: "f", at: new Date(T0 + 90 * 60_000), cost: new Decimal(4), previousCost: ZERO, credited: new Map() },
      new Date(T0 + 2 * HOUR),
    );
    assert.deepEqual(outside, [], "a call after the window is not covered");
  });
});
