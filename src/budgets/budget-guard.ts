// The budget check of authorize: hold the most the call can cost, or refuse it with 429
// budget_exhausted. With Redis away the configured policy decides (BUDGET_REDIS_DOWN): closed
// checks committed spend in PostgreSQL, open lets the call through; either way the decision says so.
import { randomUUID } from "node:crypto";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import { periodJson, type Period } from "../domain/billing-period.ts";
import { storableId } from "../domain/storable.ts";
import type { RatePrices } from "../domain/pricing.ts";
import { Decimal } from "../domain/money.ts";
import { creditOwnerJson, creditRefusal, creditsExhausted, creditStanding } from "../credits/credit-hold.ts";
import type { AlertDeps } from "../alerts/alert.service.ts";
import type { Logger } from "../lib/logger.ts";
import { committedSpend } from "./budget.repository.ts";
import {
  budgetPeriodAt,
  fromMicro,
  isCredit,
  maxCostOf,
  microDown,
  microUp,
  outputThatFits,
  ownerKey,
  type Budget,
  type CallBound,
  type Room,
} from "./budget.ts";
import { foldLedger, ledgerExpiry, ownerJson, raiseExhausted, refOf } from "./ledger-fold.ts";
import { MAX_HOLD_AMOUNT, type HoldLedger, type HoldResult, type LedgerRef } from "./hold-ledger.ts";

/** How many times a refused call is held again with a smaller output (each budget may shrink it). */
const MAX_SHRINKS = 3;

/** A ledger whose committed figure is older than this is folded again (in the background). */
const STALE_FOLD_MS = 30_000;

export type BudgetOutcome =
  /** outputTokens: the output (all completions) held, when it had to be less than the call asked for. */
  | { kind: "held"; checks: Record<string, unknown>; release(): Promise<void>; outputTokens?: number }
  | { kind: "allowed"; checks: Record<string, unknown>; outputTokens?: number }
  /**
   * room: what the refusing budget had left, when known; refused: marks the refusal and sends its alert once it is
   * final.
   */
  | {
      kind: "denied";
      checks: Record<string, unknown>;
      reason: { code: "budget_exhausted" | "credits_exhausted"; message: string; [detail: string]: unknown };
      room?: Room;
      refused?: () => Promise<void>;
    };

export type GuardDeps = {
  db: Db;
  ledger: HoldLedger;
  config: Config;
  alerts?: AlertDeps;
  logger?: Logger;
  onRedisError?: () => void;
};

export type GuardRequest = {
  budgets: Budget[];
  call: CallBound;
  rate: RatePrices | undefined;
  requestId?: string;
  now: Date;
  /** How long the hold lives unless settled (default BUDGET_HOLD_TTL_MS). */
  holdMs?: number;
  /** Present when the call's output can be capped upstream: a refused call is held again with the output that fits. */
  shrink?: { choices: number; minPerChoice: number };
};
type OneRequest = Omit<GuardRequest, "budgets"> & { budget: Budget };

/**
 * An amount the ledger can hold: beyond 2^53-1 a call cannot fit any budget (limits stop below
 * that), so holding the ledger's maximum refuses it the same, with the true figure in the reason.
 */
const holdable = (amount: bigint): string => (amount > MAX_HOLD_AMOUNT ? MAX_HOLD_AMOUNT : amount).toString();

/**
 * What a budget has left: its limits (the money limit as the ledger holds it, in whole micro-units) less what is used.
 */
function roomOf(budget: Budget, usedMoney: Decimal, usedTokens: bigint): Room {
  return {
    money: budget.amount === null ? null : fromMicro(microDown(budget.amount)).minus(usedMoney),
    tokens: budget.tokens === null ? null : budget.tokens - usedTokens,
  };
}

export class BudgetGuard {
  /** Ledgers being folded in the background: one fold at a time each, however many calls see it stale. */
  private readonly folding = new Set<string>();

  constructor(private readonly deps: GuardDeps) {}

  private refold(budget: Budget, period: Period): void {
    const key = `${ownerKey(budget.owner)}:${period.key}`;
    if (this.folding.has(key)) return;
    this.folding.add(key);
    void foldLedger(this.deps, budget, period)
      .catch((err: unknown) => this.deps.logger?.warn({ err }, "budget ledger not refreshed"))
      .finally(() => this.folding.delete(key));
  }

  /**
   * Holds the call; when a budget cannot pay for its whole output but can for at least the useful
   * minimum, holds it again with the output that fits (the caller then caps the upstream request).
   */
  async check(r: GuardRequest): Promise<BudgetOutcome> {
    let call = r.call;
    for (let round = 0; ; round++) {
      const outcome = await this.checkEach({ ...r, call });
      const shrunk = call.outputTokens < r.call.outputTokens ? { outputTokens: call.outputTokens } : {};
      if (outcome.kind !== "denied") return { ...outcome, ...shrunk };
      const perChoice =
        r.shrink && outcome.room ? Math.floor(outputThatFits(outcome.room, call, r.rate) / r.shrink.choices) : 0;
      if (
        !r.shrink ||
        round === MAX_SHRINKS ||
        perChoice < r.shrink.minPerChoice ||
        perChoice * r.shrink.choices >= call.outputTokens
      ) {
        // final: only now is the refusal recorded, so a call held smaller never raises budget.exhausted
        await outcome.refused?.();
        return r.shrink
          ? { ...outcome, reason: { ...outcome.reason, min_output_tokens: r.shrink.minPerChoice } }
          : outcome;
      }
      call = { ...call, outputTokens: perChoice * r.shrink.choices };
    }
  }

  /**
   * Holds in every budget the consumer answers to (its own, then its tags'), one after another: a
   * budget that refuses gives back the holds already taken. Each ledger alone never lets committed
   * spend pass its limit; a call refused by a later budget may for a moment have crowded an earlier one.
   */
  private async checkEach(r: GuardRequest): Promise<BudgetOutcome> {
    const taken: Array<() => Promise<void>> = [];
    const all: Record<string, unknown>[] = [];
    const checks = () => ({ ...all[0], ...(all.length > 1 ? { budgets: all } : {}) });
    for (const budget of r.budgets) {
      const one = await this.checkOne({ ...r, budget });
      all.push(one.checks);
      if (one.kind === "denied") {
        for (const release of taken) await release();
        return { kind: "denied", checks: checks(), reason: one.reason, room: one.room, refused: one.refused };
      }
      if (one.kind === "held") taken.push(one.release);
    }
    if (taken.length === 0) return { kind: "allowed", checks: checks() };
    return {
      kind: "held",
      checks: checks(),
      release: async () => {
        for (const release of taken) await release();
      },
    };
  }

  private async checkOne(r: OneRequest): Promise<BudgetOutcome> {
    const period = budgetPeriodAt(r.budget, r.now, this.deps.config.billing.timeZone);
    const cost = maxCostOf(r.call, r.rate);
    const tokens = r.call.inputTokens + r.call.outputTokens;
    // the hold is keyed by the event id the metered log will have (Kong's request id), so it settles
    const id = r.requestId ? storableId(r.requestId, "rid-sha256") : `unsettleable:${randomUUID()}`;
    const checks: Record<string, unknown> = {
      ...ownerJson(r.budget),
      budget_version: r.budget.version,
      period: period.key,
      hold_amount: cost.toFixed(),
      hold_tokens: tokens,
      hold_id: id,
    };
    const ref = refOf(r.budget, period);
    let result: HoldResult;
    try {
      result = await this.hold(
        r.budget,
        period,
        ref,
        id,
        holdable(BigInt(microUp(cost))),
        holdable(BigInt(tokens)),
        r.holdMs,
        !r.shrink,
      );
    } catch (err) {
      this.deps.onRedisError?.();
      this.deps.logger?.warn({ err }, "budget ledger unavailable; BUDGET_REDIS_DOWN decides");
      return this.withoutLedger(r, period, cost, tokens, checks);
    }
    const committed = fromMicro(result.committedMoney);
    const held = fromMicro(result.heldMoney);
    Object.assign(checks, { budget_source: "ledger", committed: committed.toFixed(), held: held.toFixed() });
    if (Date.now() - result.foldedAt > STALE_FOLD_MS) this.refold(r.budget, period);
    if (result.kind === "held")
      return { kind: "held", checks, release: () => this.deps.ledger.release(ref, id).catch(() => {}) };
    if (isCredit(r.budget))
      return this.creditDenied(r.budget, cost, held, checks, roomOf(r.budget, committed.plus(held), 0n));
    // a refusal the caller may still turn into a smaller hold is marked (and alerted) only once final
    const refused = async () => {
      const first = r.shrink
        ? await this.deps.ledger.markDenied(ref, r.budget.version).catch(() => false)
        : result.firstDenial;
      if (!first || !this.deps.alerts) return;
      void raiseExhausted(this.deps.alerts, r.budget, period, {
        ...ownerJson(r.budget),
        budget_version: r.budget.version,
        period: periodJson(period),
        cause: "call_refused",
        limit: r.budget.amount?.toFixed() ?? null,
        limit_tokens: r.budget.tokens?.toString() ?? null,
        committed: checks.committed,
        held: checks.held,
        refused_call_max_cost: cost.toFixed(),
        currency: this.deps.config.billing.currency,
      });
    };
    const usedMoney = committed.plus(held);
    const usedTokens = BigInt(result.committedTokens + result.heldTokens);
    return {
      kind: "denied",
      checks,
      reason: this.reasonOf(r.budget, period, cost, tokens, usedMoney, usedTokens),
      room: roomOf(r.budget, usedMoney, usedTokens),
      refused,
    };
  }

  /** A prepaid balance that cannot hold the call: 402 credits_exhausted, and credits.exhausted once per top-up. */
  private async creditDenied(
    budget: Budget,
    cost: Decimal,
    held: Decimal,
    checks: Record<string, unknown>,
    room: Room,
  ): Promise<BudgetOutcome> {
    const standing = await creditStanding(this.deps.db, budget.owner);
    // the exact balance (the ledger holds it rounded down to micro-units)
    const reason = creditRefusal(this.deps.config.billing.currency, standing.balance, held, cost, standing.nextExpiry);
    // the ledger's committed figure is the balance negated: the checks show the balance itself
    delete checks.committed;
    checks.balance = reason.balance;
    const refused = async () => {
      if (!this.deps.alerts || !standing.newestGrant) return;
      void creditsExhausted(this.deps.alerts, budget.owner, standing.newestGrant, {
        ...creditOwnerJson(budget.owner),
        cause: "call_refused",
        balance: reason.balance,
        held: held.toFixed(),
        refused_call_max_cost: cost.toFixed(),
        currency: reason.currency,
      });
    };
    return { kind: "denied", checks, reason, room, refused };
  }

  private async hold(
    budget: Budget,
    period: Period,
    ref: LedgerRef,
    id: string,
    money: string,
    tokens: string,
    holdMs: number | undefined,
    markDenial: boolean,
  ): Promise<HoldResult> {
    const request = {
      id,
      money,
      tokens,
      moneyLimit: budget.amount === null ? null : microDown(budget.amount),
      tokenLimit: budget.tokens === null ? null : budget.tokens.toString(),
      holdMs: holdMs ?? this.deps.config.budgets.holdTtlMs,
      expiresAt: ledgerExpiry(period),
      budgetVersion: budget.version,
      markDenial,
    };
    const first = await this.deps.ledger.hold(ref, request);
    if (first) return first;
    await foldLedger(this.deps, budget, period); // first use of this period's ledger
    const again = await this.deps.ledger.hold(ref, request);
    if (!again) throw new Error("budget ledger vanished while being used");
    return again;
  }

  /**
   * Redis away: closed compares committed spend in PostgreSQL (no holds: concurrent calls are not seen), open allows.
   */
  private async withoutLedger(
    r: OneRequest,
    period: Period,
    cost: ReturnType<typeof maxCostOf>,
    tokens: number,
    checks: Record<string, unknown>,
  ): Promise<BudgetOutcome> {
    if (this.deps.config.budgets.redisDown === "open")
      return { kind: "allowed", checks: { ...checks, budget_source: "unchecked" } };
    const c = isCredit(r.budget)
      ? { money: (await creditStanding(this.deps.db, r.budget.owner)).balance.negated(), tokens: 0n }
      : await committedSpend(this.deps.db, r.budget.owner, period);
    Object.assign(checks, { budget_source: "committed", committed: c.money.toFixed(), held: null });
    const fits =
      (r.budget.amount === null || c.money.plus(cost).lte(r.budget.amount)) &&
      (r.budget.tokens === null || c.tokens + BigInt(tokens) <= r.budget.tokens);
    if (fits) return { kind: "allowed", checks };
    if (isCredit(r.budget))
      return this.creditDenied(r.budget, cost, new Decimal(0), checks, roomOf(r.budget, c.money, c.tokens));
    return {
      kind: "denied",
      checks,
      reason: this.reasonOf(r.budget, period, cost, tokens, c.money, c.tokens),
      room: roomOf(r.budget, c.money, c.tokens),
    };
  }

  private reasonOf(
    budget: Budget,
    period: Period,
    cost: ReturnType<typeof maxCostOf>,
    tokens: number,
    usedMoney: ReturnType<typeof maxCostOf>,
    usedTokens: bigint,
  ) {
    const moneyShort = budget.amount !== null && usedMoney.plus(cost).gt(budget.amount);
    const whose = budget.owner.tag !== undefined ? `tag ${budget.owner.tag}: ` : "";
    const message =
      whose +
      (moneyShort
        ? `the ${budget.period} budget of ${budget.amount!.toFixed()} ${this.deps.config.billing.currency} cannot hold this call (up to ${cost.toFixed()}; ${usedMoney.toFixed()} committed or held)`
        : `the ${budget.period} budget of ${budget.tokens} tokens cannot hold this call (up to ${tokens}; ${usedTokens} committed or held)`);
    return {
      code: "budget_exhausted" as const,
      message,
      ...(budget.owner.tag !== undefined ? { tag: budget.owner.tag } : {}),
      period: period.key,
      resets_at: period.endsAt.toISOString(),
      ...(moneyShort
        ? {
            limit: budget.amount!.toFixed(),
            actual: usedMoney.toFixed(),
            needed: cost.toFixed(),
            currency: this.deps.config.billing.currency,
          }
        : { limit_tokens: budget.tokens!.toString(), actual_tokens: usedTokens.toString(), needed_tokens: tokens }),
    };
  }
}
