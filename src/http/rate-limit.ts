// Per-key rate limiting of the API (admin key, each consumer key) and of failed authentication per
// client address, so no one key can starve the others and keys cannot be guessed at speed. A
// generic cell rate algorithm: each request pushes the key's "theoretical arrival time" on by
// period/limit, and a request that would push it more than one period ahead is refused with 429
// and Retry-After. The state lives in Redis (one Lua script, so every API process shares it);
// with Redis away each process limits on its own, which bounds a key at limit × processes.
import { createHash } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { Redis } from "ioredis";
import { AppError } from "../domain/errors.ts";
import { RedisScript } from "../lib/redis-script.ts";

const PERIOD_MS = 60_000;
/** Keys the in-process fallback keeps at most; the oldest go first. */
const LOCAL_KEYS = 10_000;

// KEYS[1]: the key. ARGV: interval (period / limit) ms, period ms, 1 to take or 0 to only look.
// Returns {allowed, wait ms, remaining}.
const GCRA = new RedisScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval, period = tonumber(ARGV[1]), tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local next_tat = tat + interval
if next_tat - now > period then return {0, math.ceil(next_tat - now - period), 0} end
if ARGV[3] == '1' then redis.call('SET', KEYS[1], next_tat, 'PX', math.ceil(next_tat - now)) end
return {1, 0, math.floor((period - (next_tat - now)) / interval)}
`);

export type Verdict = { allowed: boolean; waitMs: number; remaining: number };

export class RateLimiter {
  private readonly local = new Map<string, number>();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /** Takes one request from the key's allowance (`take` false: only says whether one is left). */
  async take(key: string, perMinute: number, take = true): Promise<Verdict> {
    const interval = PERIOD_MS / perMinute;
    try {
      const [allowed, waitMs, remaining] = (await GCRA.run(
        this.redis,
        [`${this.prefix}:rate:${key}`],
        [interval, PERIOD_MS, take ? 1 : 0],
      )) as number[];
      return { allowed: allowed === 1, waitMs: waitMs!, remaining: remaining! };
    } catch {
      return this.takeLocally(key, interval, take);
    }
  }

  private takeLocally(key: string, interval: number, take: boolean): Verdict {
    const now = Date.now();
    const tat = Math.max(this.local.get(key) ?? now, now) + interval;
    if (tat - now > PERIOD_MS) return { allowed: false, waitMs: Math.ceil(tat - now - PERIOD_MS), remaining: 0 };
    if (!take) return { allowed: true, waitMs: 0, remaining: Math.floor((PERIOD_MS - (tat - now)) / interval) };
    this.local.delete(key); // re-inserted last: the map's order is least recently used first
    this.local.set(key, tat);
    if (this.local.size > LOCAL_KEYS) this.local.delete(this.local.keys().next().value!);
    return { allowed: true, waitMs: 0, remaining: Math.floor((PERIOD_MS - (tat - now)) / interval) };
  }
}

export type RateLimits = { perKeyPerMinute: number; failedAuthPerMinute: number };

/** A credential's bucket name: never the credential itself. */
const keyOf = (credential: string) => createHash("sha256").update(credential).digest("hex").slice(0, 24);

function refuse(reply: FastifyReply, v: Verdict, what: string): never {
  reply.header("retry-after", String(Math.max(1, Math.ceil(v.waitMs / 1000))));
  throw new AppError("rate_limited", `too many requests ${what}; retry after the Retry-After header's seconds`);
}

/**
 * Wraps the API's authentication: a client address past its failed attempts is refused before
 * its credential is even tried; a failed attempt counts against its address; an accepted
 * credential counts against its own bucket.
 */
export function rateLimited(
  authenticate: (request: FastifyRequest) => Promise<void>,
  limiter: RateLimiter,
  limits: RateLimits,
  credentialOf: (request: FastifyRequest) => string | undefined,
) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const failed = `ip:${request.ip}:failed`;
    if (limits.failedAuthPerMinute > 0) {
      // an address out of attempts is refused before its key is tried, so guessing stops there
      const left = await limiter.take(failed, limits.failedAuthPerMinute, false);
      if (!left.allowed) refuse(reply, left, "with a wrong key from this address");
    }
    try {
      await authenticate(request);
    } catch (err) {
      if (limits.failedAuthPerMinute > 0) await limiter.take(failed, limits.failedAuthPerMinute);
      throw err;
    }
    if (limits.perKeyPerMinute <= 0) return;
    const credential = credentialOf(request);
    const v = await limiter.take(`key:${keyOf(credential ?? request.ip)}`, limits.perKeyPerMinute);
    reply.header("ratelimit-limit", String(limits.perKeyPerMinute));
    reply.header("ratelimit-remaining", String(v.remaining));
    if (!v.allowed) refuse(reply, v, "with this key");
  };
}
