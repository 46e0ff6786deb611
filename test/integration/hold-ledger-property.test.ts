// The hold ledger against a real Redis, under random interleavings of concurrent holds, commits
// (PostgreSQL, simulated by a sum), settles and folds, the worst case for a budget: every call
// costs exactly what it held, so nothing a hold reserved is ever given back. Whatever the order,
// the calls admitted never add up to more than the limit, and once everything is settled and
// folded the ledger holds nothing and its committed figure is the committed sum.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { Redis } from "ioredis";
import { HoldLedger } from "../../src/budgets/hold-ledger.ts";

const runs = Number(process.env.PROPERTY_RUNS ?? 40);
let redis: Redis;
before(() => {
  redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
});
after(() => redis.quit());

type Step =
  | { kind: "hold"; amount: number }
  | { kind: "commit"; pick: number; settle: boolean }
  | { kind: "fold"; delayMs: number };
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("hold" as const), amount: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("commit" as const), pick: fc.nat(), settle: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("fold" as const), delayMs: fc.integer({ min: 0, max: 3 }) }) },
);

describe("hold ledger", () => {
  it("never admits more than the limit, whatever interleaving of holds, commits, settles and folds", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 20, max: 300 }),
        fc.array(fc.array(stepArb, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 15 }),
        async (limit, groups) => {
          const ledger = new HoldLedger(redis, `prop-${randomBytes(6).toString("hex")}`);
          const ref = { owner: "c", periodKey: "2026-12-01" };
          const expiresAt = new Date(Date.now() + 3_600_000);
          let committed = 0; // what PostgreSQL holds
          const admitted: Array<{ id: string; amount: number; committed: boolean; settled: boolean }> = [];
          let n = 0;
          const fold = async (delayMs = 0) => {
            const t1 = await ledger.clock(ref, expiresAt);
            await new Promise((r) => setTimeout(r, delayMs));
            await ledger.fold(ref, t1, { money: String(committed), tokens: "0" }, expiresAt);
          };
          await fold();
          const run = async (s: Step) => {
            if (s.kind === "hold") {
              const id = `call-${n++}`;
              const r = await ledger.hold(ref, {
                id,
                money: String(s.amount),
                tokens: "0",
                moneyLimit: String(limit),
                tokenLimit: null,
                holdMs: 3_600_000,
                expiresAt,
                budgetVersion: 1,
              });
              if (r?.kind === "held") admitted.push({ id, amount: s.amount, committed: false, settled: false });
            } else if (s.kind === "commit") {
              const open = admitted.filter((a) => !a.committed);
              const call = open[s.pick % Math.max(open.length, 1)];
              if (!call) return;
              call.committed = true;
              committed += call.amount; // the meter's transaction commits first...
              if (s.settle) {
                call.settled = true;
                await ledger.settle(ref, [call.id]); // ...then settles (or crashes before: redelivery settles later)
              }
            } else await fold(s.delayMs);
          };
          for (const group of groups) await Promise.all(group.map(run));
          const total = admitted.reduce((sum, a) => sum + a.amount, 0);
          assert.ok(total <= limit, `admitted ${total} against a limit of ${limit}`);

          for (const a of admitted.filter((x) => !x.committed)) committed += a.amount;
          await ledger.settle(
            ref,
            admitted.map((a) => a.id),
          );
          await fold();
          const state = await ledger.read(ref);
          assert.deepEqual([state?.heldMoney, state?.holds, state?.committedMoney], [0, 0, committed]);
          await redis.del(...ledger.keys(ref));
        },
      ),
      { numRuns: runs },
    );
  });

  it("refuses a negative, fractional or oversized amount outright and keeps working after", async () => {
    const ledger = new HoldLedger(redis, `bad-${randomBytes(6).toString("hex")}`);
    const ref = { owner: "c", periodKey: "2026-12-01" };
    const expiresAt = new Date(Date.now() + 3_600_000);
    await ledger.fold(ref, await ledger.clock(ref, expiresAt), { money: "0", tokens: "0" }, expiresAt);
    const request = {
      id: "x",
      money: "1",
      tokens: "1",
      moneyLimit: "100",
      tokenLimit: null,
      holdMs: 1,
      expiresAt,
      budgetVersion: 1,
    };
    for (const bad of ["-5", "1.5", "1e3", "", " 7", "9007199254740992", "-0"]) {
      await assert.rejects(ledger.hold(ref, { ...request, money: bad }), RangeError, `money ${bad}`);
      await assert.rejects(ledger.hold(ref, { ...request, tokens: bad }), RangeError, `tokens ${bad}`);
    }
    assert.equal((await ledger.hold(ref, { ...request, money: "40" }))?.kind, "held");
    await new Promise((r) => setTimeout(r, 5)); // the 1 ms hold expires
    await ledger.fold(ref, await ledger.clock(ref, expiresAt), { money: "0", tokens: "0" }, expiresAt);
    const state = await ledger.read(ref);
    assert.deepEqual([state?.heldMoney, state?.holds], [0, 0]);
    await redis.del(...ledger.keys(ref));
  });
});
