// Consumers' metadata for the gateway, cached in process. Every metadata change publishes on a
// Redis channel and every API process drops its cache on that message; a TTL bounds staleness if a
// message is ever missed (Redis away while someone changed metadata).
import type { Redis } from "ioredis";
import { findByKongRefs, rateHistories } from "../consumers/consumer.repository.ts";
import type { KongConsumerRef } from "../domain/kong-log.ts";
import type { Db } from "../db/client.ts";
import type { Limits } from "../domain/limits.ts";
import type { Rate } from "../domain/pricing.ts";
import type { TdlMatrix } from "../domain/tdl.ts";
import type { Logger } from "../lib/logger.ts";
import type { Budget } from "../budgets/budget.ts";
import { currentBudgets } from "../budgets/budget.repository.ts";
import type { Plan } from "../domain/consumer-pricing.ts";
import { PlanCache } from "../price-books/plans.ts";
import { metadataChannel } from "./metadata-changes.ts";

/** Price books indexed once per version for every consumer this process authorizes. */
const PLANS = new PlanCache();

/** What the gateway needs of one consumer: identity, limits, header values and rate history. */
export type GatewayConsumer = {
  id: string;
  configured: boolean;
  metadataVersion: number;
  externalId: string | null;
  providerName: string | null;
  tags: string[];
  limits: Limits;
  rates: Rate[];
  /** The price book it is billed by, if any, and its own prices: authorize prices the call's model with them. */
  plan?: Plan;
  own?: Plan;
  /** The budgets in force (its own, then its tags'), see src/budgets. */
  budgets: Budget[];
};

/** By Kong's identity of the consumer, or by tokenmeter's own id. */
async function loadGatewayConsumer(db: Db, ref: KongConsumerRef | { id: string }): Promise<GatewayConsumer | null> {
  const id = "id" in ref ? ref.id : (await findByKongRefs(db, [ref]))(ref);
  if (!id) return null;
  const c = await db.consumer.findUnique({ where: { id } });
  if (!c) return null;
  return {
    id: c.id,
    configured: c.configured,
    metadataVersion: c.metadataVersion,
    externalId: c.externalId,
    providerName: c.providerName,
    tags: c.tags,
    limits: {
      capabilities: c.capabilities,
      maxInputTokens: c.maxInputTokens,
      maxOutputTokens: c.maxOutputTokens,
      tdlMatrix: c.tdlMatrix as TdlMatrix,
    },
    rates: (await rateHistories(db, [c.id])).get(c.id) ?? [],
    ...(await PLANS.pricingOf(db, [c.id]).then((p) => ({ plan: p.plans.get(c.id), own: p.own.get(c.id) }))),
    budgets: (await currentBudgets(db, [c.id])).get(c.id) ?? [],
  };
}

/** Consumers cached per process at most: far above any gateway's consumer count, far below memory trouble. */
const MAX_ENTRIES = 50_000;

const refKey = (r: KongConsumerRef) => `${r.kongId ?? ""}|${r.username ?? ""}|${r.customId ?? ""}`;

export class MetadataCache {
  private readonly entries = new Map<string, { value: GatewayConsumer | null; expiresAt: number }>();
  private readonly loading = new Map<string, Promise<GatewayConsumer | null>>();
  /** Bumped by every invalidation, so a load that raced one is not stored. */
  private generation = 0;
  private subscriber: Redis | undefined;

  constructor(
    private readonly db: Db,
    private readonly opts: { ttlMs: number; redisPrefix: string; logger: Logger; maxEntries?: number },
  ) {}

  /** Subscribes on a connection of its own (a subscribed connection can do nothing else). */
  async start(redis: Redis): Promise<void> {
    this.subscriber = redis.duplicate({ maxRetriesPerRequest: null, enableOfflineQueue: true });
    this.subscriber.on("error", (err) => this.opts.logger.debug({ err }, "metadata channel: Redis unavailable"));
    this.subscriber.on("message", () => this.invalidate());
    // after a reconnect changes may have been missed while away
    this.subscriber.on("ready", () => this.invalidate());
    this.subscriber.subscribe(metadataChannel(this.opts.redisPrefix)).catch(() => {});
  }

  async close(): Promise<void> {
    this.subscriber?.disconnect();
  }

  /** By tokenmeter's own id (a consumer key's owner), read fresh: keys are rare on the gateway's path. */
  byId(id: string): Promise<GatewayConsumer | null> {
    return loadGatewayConsumer(this.db, { id });
  }

  get size(): number {
    return this.entries.size;
  }

  invalidate(): void {
    this.generation++;
    this.entries.clear();
  }

  async lookup(ref: KongConsumerRef): Promise<GatewayConsumer | null> {
    const key = refKey(ref);
    const hit = this.entries.get(key);
    if (hit && hit.expiresAt > Date.now()) return hit.value;
    const pending = this.loading.get(key);
    if (pending) return pending;
    const generation = this.generation;
    const load = loadGatewayConsumer(this.db, ref).finally(() => this.loading.delete(key));
    this.loading.set(key, load);
    const value = await load;
    if (this.opts.ttlMs > 0 && generation === this.generation) {
      // bounded: keys come from callers; the oldest entry goes first (a Map keeps insertion order)
      if (this.entries.size >= (this.opts.maxEntries ?? MAX_ENTRIES))
        this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, { value, expiresAt: Date.now() + this.opts.ttlMs });
    }
    return value;
  }
}
