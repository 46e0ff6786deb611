// The hold ledger: per consumer and budget period, in Redis, what has been committed (metered, as
// PostgreSQL last said) and what is held for calls in flight. Each step is one Lua script, so 200
// concurrent authorizations of one consumer cannot all take the last of a budget.
//
// Protocol (ordering comes from a sequence number in the ledger, which Redis's one-at-a-time
// execution makes strict; expiry from Redis's own clock, so processes' clocks never matter):
//   hold    authorize: fits(committed + held + max cost) -> an entry "money|tokens|h" and a hold
//   settle  meter, after its transaction committed: the hold becomes settled ("...|s") at seq n
//   fold    t1 = next seq, then committed := PostgreSQL's sum read after that, and every entry
//           settled before t1 is dropped (its event is in that sum). Entries settled later stay
//           held, so an event is never out of both; at worst it is in both for a moment.
//   expire  a hold nothing settles is dropped at its expiry by the next script that runs.
// A fold with an older t1 than the last one applied is ignored, so racing folds cannot undo.
import type { Redis } from "ioredis";
import { RedisScript as Script } from "../lib/redis-script.ts";

// KEYS: ledger hash, entries hash, holds zset (by expiry), settled zset (by settle time).
const PRELUDE = `
local ledger, entries, holds, settled = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function drop(id, state)
  local e = redis.call('HGET', entries, id)
  if not e then return end
  local m, tk, s = string.match(e, '^(%d+)|(%d+)|(%a)$')
  if state and s ~= state then return end
  redis.call('HDEL', entries, id)
  -- Redis reads "-0" as no integer at all
  if m ~= '0' then redis.call('HINCRBY', ledger, 'held_money', '-' .. m) end
  if tk ~= '0' then redis.call('HINCRBY', ledger, 'held_tokens', '-' .. tk) end
end
local function expire_holds()
  local gone = redis.call('ZRANGEBYSCORE', holds, '-inf', now, 'LIMIT', 0, 1000)
  for _, id in ipairs(gone) do drop(id, 'h'); redis.call('ZREM', holds, id) end
end
local function n(field) return tonumber(redis.call('HGET', ledger, field) or '0') end
`;

// ARGV: id, money, tokens, money limit (-1 none), token limit (-1 none), hold ms, key expiry (unix ms), version,
// 1 to mark a refusal as the version's first (0: the caller may still hold a smaller call, see markDenied).
// Returns {admitted, committed_money, held_money, committed_tokens, held_tokens, folded_at, first_denial}
// or {-1} when the ledger has not been folded yet (no committed figure to check against).
const HOLD = new Script(`${PRELUDE}
if redis.call('HEXISTS', ledger, 'folded_at') == 0 then return {-1} end
-- a committed figure that changes by the clock alone (credit expiring) is folded again first
local valid_until = n('valid_until')
if valid_until > 0 and now >= valid_until then return {-1} end
expire_holds()
local id, money, tokens = ARGV[1], ARGV[2], ARGV[3]
-- only what expiry, release and fold can read back: whole non-negative amounts, exact as doubles
for _, a in ipairs({money, tokens}) do
  if not string.match(a, '^%d+$') or #a > 16 or tonumber(a) > 9007199254740991 then
    return redis.error_reply('ERR a hold amount must be a whole number from 0 to 2^53-1')
  end
end
local lm, lt = tonumber(ARGV[4]), tonumber(ARGV[5])
local cm, hm, ct, ht = n('committed_money'), n('held_money'), n('committed_tokens'), n('held_tokens')
local folded = n('folded_at')
if redis.call('HEXISTS', entries, id) == 1 then return {1, cm, hm, ct, ht, folded, 0} end
local fits = (lm < 0 or cm + hm + tonumber(money) <= lm) and (lt < 0 or ct + ht + tonumber(tokens) <= lt)
if not fits then
  local first = 0
  if ARGV[9] == '1' then first = redis.call('HSETNX', ledger, 'denied:' .. ARGV[8], now) end
  return {0, cm, hm, ct, ht, folded, first}
end
redis.call('HSET', entries, id, money .. '|' .. tokens .. '|h')
redis.call('ZADD', holds, now + tonumber(ARGV[6]), id)
redis.call('HINCRBY', ledger, 'held_money', money)
redis.call('HINCRBY', ledger, 'held_tokens', tokens)
for _, k in ipairs(KEYS) do redis.call('PEXPIREAT', k, ARGV[7]) end
return {1, cm, hm + tonumber(money), ct, ht + tonumber(tokens), folded, 0}`);

// ARGV: budget version. Marks a refusal; 1 when it is the version's first.
const MARK_DENIED = new Script(`
local t = redis.call('TIME')
return redis.call('HSETNX', KEYS[1], 'denied:' .. ARGV[1], t[1])`);

// ARGV: id. A hold whose call is gone (denied by a later check) is dropped.
const RELEASE = new Script(`${PRELUDE}
drop(ARGV[1], 'h'); redis.call('ZREM', holds, ARGV[1])
return 1`);

// ARGV: ids... Each hold becomes settled at the next sequence number; returns how many were holds.
const SETTLE = new Script(`${PRELUDE}
if redis.call('HEXISTS', ledger, 'folded_at') == 0 then return 0 end -- never folded: nothing was held
local done = 0
local seq = redis.call('HINCRBY', ledger, 'seq', 1)
for i = 1, #ARGV do
  local e = redis.call('HGET', entries, ARGV[i])
  if e and string.sub(e, -1) == 'h' then
    redis.call('HSET', entries, ARGV[i], string.sub(e, 1, -2) .. 's')
    redis.call('ZREM', holds, ARGV[i])
    redis.call('ZADD', settled, seq, ARGV[i])
    done = done + 1
  end
end
return done`);

// ARGV: key expiry. The next sequence number: a fold's t1, taken before PostgreSQL is read.
const CLOCK = new Script(`
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIREAT', KEYS[1], ARGV[1]) end
return seq`);

// ARGV: t1 (from CLOCK, before PostgreSQL was read), committed money, committed tokens, key expiry,
// and when the committed figure goes stale by the clock alone (unix ms, 0: never).
const FOLD = new Script(`${PRELUDE}
local t1 = tonumber(ARGV[1])
if n('fold_seq') >= t1 then return 0 end
for _, id in ipairs(redis.call('ZRANGEBYSCORE', settled, '-inf', '(' .. ARGV[1])) do redis.call('HDEL', entries, id) end
redis.call('ZREMRANGEBYSCORE', settled, '-inf', '(' .. ARGV[1])
expire_holds()
local hm, ht = 0, 0
for _, e in ipairs(redis.call('HVALS', entries)) do
  local m, tk = string.match(e, '^(%d+)|(%d+)|')
  hm = hm + tonumber(m); ht = ht + tonumber(tk)
end
redis.call('HSET', ledger, 'committed_money', ARGV[2], 'committed_tokens', ARGV[3], 'held_money', string.format('%d', hm), 'held_tokens', string.format('%d', ht), 'fold_seq', ARGV[1], 'folded_at', now, 'valid_until', ARGV[5] or '0')
for _, k in ipairs(KEYS) do redis.call('PEXPIREAT', k, ARGV[4]) end
return 1`);

// Returns {committed_money, held_money, committed_tokens, held_tokens, holds in flight, folded_at} or {} when absent.
const READ = new Script(`${PRELUDE}
if redis.call('HEXISTS', ledger, 'folded_at') == 0 then return {} end
expire_holds()
return {n('committed_money'), n('held_money'), n('committed_tokens'), n('held_tokens'), redis.call('ZCARD', holds), n('folded_at')}`);

/** One budget's ledger for one period; `owner` is a consumer id or `tag:<name>` (see ownerKey). */
export type LedgerRef = { owner: string; periodKey: string };

export type LedgerState = {
  committedMoney: number;
  heldMoney: number;
  committedTokens: number;
  heldTokens: number;
  /** Unix ms (Redis's clock) of the fold that brought the committed figures. */
  foldedAt: number;
};

export type HoldResult = ({ kind: "held" } | { kind: "denied"; firstDenial: boolean }) & LedgerState;

export type HoldRequest = {
  id: string;
  /** Micro-units and tokens held. */
  money: string;
  tokens: string;
  /** Micro-units and tokens; null = no such limit. */
  moneyLimit: string | null;
  tokenLimit: string | null;
  holdMs: number;
  expiresAt: Date;
  budgetVersion: number;
  /** False: a refusal is not marked (the caller may hold the call smaller and marks a final refusal itself). */
  markDenial?: boolean;
};

/** The largest amount one hold may carry: what Lua's doubles hold exactly. */
export const MAX_HOLD_AMOUNT = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * A hold's amount is a whole number of micro-units or tokens, 0 to MAX_HOLD_AMOUNT; anything else is a bug upstream of
 * the ledger.
 */
function assertHoldable(what: string, amount: string): void {
  if (!/^\d{1,16}$/.test(amount) || BigInt(amount) > MAX_HOLD_AMOUNT) {
    throw new RangeError(`a hold's ${what} must be a whole number from 0 to 2^53-1, not ${JSON.stringify(amount)}`);
  }
}

const state = (r: number[]): LedgerState => ({
  committedMoney: r[0]!,
  heldMoney: r[1]!,
  committedTokens: r[2]!,
  heldTokens: r[3]!,
  foldedAt: r[4]!,
});

export class HoldLedger {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /** One hash slot per budget and period (the braces), so the scripts work on a Redis Cluster too. */
  keys(ref: LedgerRef): string[] {
    const base = `${this.prefix}:budget:{${ref.owner}:${ref.periodKey}}`;
    return [base, `${base}:entries`, `${base}:holds`, `${base}:settled`];
  }

  /** null: the ledger has no committed figure yet; fold it and ask again. */
  async hold(ref: LedgerRef, h: HoldRequest): Promise<HoldResult | null> {
    assertHoldable("money", h.money);
    assertHoldable("tokens", h.tokens);
    const r = (await HOLD.run(this.redis, this.keys(ref), [
      h.id,
      h.money,
      h.tokens,
      h.moneyLimit ?? -1,
      h.tokenLimit ?? -1,
      h.holdMs,
      h.expiresAt.getTime(),
      h.budgetVersion,
      h.markDenial === false ? 0 : 1,
    ])) as number[];
    if (r[0] === -1) return null;
    const s = state(r.slice(1));
    return r[0] === 1 ? { kind: "held", ...s } : { kind: "denied", firstDenial: r[6] === 1, ...s };
  }

  /** Records a refusal of the budget version; true when it is the first (its alert is due). */
  async markDenied(ref: LedgerRef, budgetVersion: number): Promise<boolean> {
    return (await MARK_DENIED.run(this.redis, this.keys(ref).slice(0, 1), [budgetVersion])) === 1;
  }

  async release(ref: LedgerRef, id: string): Promise<void> {
    await RELEASE.run(this.redis, this.keys(ref), [id]);
  }

  async settle(ref: LedgerRef, ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return (await SETTLE.run(this.redis, this.keys(ref), ids)) as number;
  }

  /** The t1 of a fold: taken before PostgreSQL is read. */
  async clock(ref: LedgerRef, expiresAt: Date): Promise<number> {
    return (await CLOCK.run(this.redis, this.keys(ref).slice(0, 1), [expiresAt.getTime()])) as number;
  }

  /**
   * Applies committed figures read from PostgreSQL after `readAfter` (a clock() value) was taken;
   * `validUntil`: when they go stale by the clock alone, after which a hold folds again first.
   */
  async fold(
    ref: LedgerRef,
    readAfter: number,
    committed: { money: string; tokens: string },
    expiresAt: Date,
    validUntil?: Date | null,
  ): Promise<boolean> {
    return (
      (await FOLD.run(this.redis, this.keys(ref), [
        readAfter,
        committed.money,
        committed.tokens,
        expiresAt.getTime(),
        validUntil ? validUntil.getTime() : 0,
      ])) === 1
    );
  }

  async read(ref: LedgerRef): Promise<(LedgerState & { holds: number }) | null> {
    const r = (await READ.run(this.redis, this.keys(ref), [])) as number[];
    if (r.length === 0) return null;
    return { ...state([r[0]!, r[1]!, r[2]!, r[3]!, r[5]!]), holds: r[4]! };
  }
}
