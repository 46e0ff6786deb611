// One batch of raw-topic messages through the stages, in order:
// parse -> call record (src/calls/: an http-log entry and a CloudEvent alike) -> measure (tokens,
// capability) -> identify -> price -> persist (one transaction: new calls inserted and reports of
// calls already stored merged into them by one statement, aggregates moved).
// A message that cannot be metered becomes a dead letter; the rest of the batch goes on. A
// database that cannot be reached throws TransientFailure: the caller retries the whole batch.
import type { Config } from "../../src/config.ts";
import type { Db, PrismaClient } from "../../src/db/client.ts";
import type { SqlPool } from "../../src/db/pool.ts";
import { cellLimit, limitFlagsOf } from "../../src/domain/limits.ts";
import { levelOf, localSlotOf } from "../../src/domain/tdl.ts";
import { identify } from "./stages/identify.ts";
import type { MeteredEvent } from "./stages/metered-event.ts";
import { parseMessage, Poison } from "../../src/domain/raw-message.ts";
import { classifyDbError, TransientFailure } from "../../src/db/errors.ts";
import { persistIsolated } from "./isolate.ts";
import { PricesMoved } from "./stages/persist.ts";
import { price, type Pricing } from "./stages/price.ts";
import { PlanCache } from "../../src/price-books/plans.ts";
import { policiesOf, rateHistories, type ConsumerPolicies } from "../../src/consumers/consumer.repository.ts";
import type { KongConsumerRef } from "../../src/domain/kong-log.ts";
import type { Item } from "./isolate.ts";
import type { Metrics } from "../../src/ops/metrics.ts";
import { tokenColumns } from "./stages/token-columns.ts";
import { measure, type Measured } from "./stages/measure.ts";
import { callOf, readOptionsOf } from "../../src/calls/read-call.ts";
import { mergerFor } from "./stages/merge.ts";
import type { DeadLetter, RawMessage } from "./messages.ts";

export type { RawMessage } from "./messages.ts";
export type BatchResult = {
  /** The events this batch inserted (not the duplicates). */
  metered: MeteredEvent[];
  /** Reports of calls already stored that this batch merged into their events. */
  merged: number;
  duplicates: number;
  deadLetters: DeadLetter[];
  /** Every event this batch inserted, merged into or found already stored: what settles budget holds. */
  stored: Array<{ id: string; consumerId: string | null; occurredAt: Date; holdId?: string }>;
};

export type BatchDeps = { db: PrismaClient; pool: SqlPool; config: Config; metrics?: Metrics; plans?: PlanCache };

type Entry = { message: RawMessage; measured: Measured };

export async function meterBatch(messages: RawMessage[], deps: BatchDeps): Promise<BatchResult> {
  const { config } = deps;
  const deadLetters: DeadLetter[] = [];
  const entries: Entry[] = [];
  const seen = new Set<string>();
  let duplicates = 0;
  const readOptions = readOptionsOf(config);
  for (const message of messages) {
    const parsed = parseMessage(message.value);
    if (parsed instanceof Poison) {
      deadLetters.push({ message, kind: "parse", reason: parsed.reason });
      continue;
    }
    let measured: Measured;
    try {
      measured = measure(callOf(parsed, readOptions), config, deps.metrics);
    } catch (err) {
      deadLetters.push({
        message,
        kind: "metering",
        reason: `metering failed: ${(err as Error).message}`,
        eventId: parsed.eventId,
      });
      continue;
    }
    // the same report twice in one batch; a second report of the same call is merged by persist
    const key = `${parsed.eventId}\n${measured.call.reportedBy}`;
    if (seen.has(key)) duplicates++;
    else {
      seen.add(key);
      entries.push({ message, measured });
    }
  }

  const outcome = await pricedAndPersisted(deps, entries);
  const { items, persisted } = outcome;
  deadLetters.push(...outcome.deadLetters);
  deadLetters.push(...persisted.deadLetters);
  const written = items.length - persisted.deadLetters.length;
  const { inserted, merged } = persisted;
  const refused = new Set(persisted.deadLetters.map((d) => d.message));
  const stored = items
    .filter((i) => !refused.has(i.message))
    .map(({ event: e }) => ({ id: e.id, consumerId: e.consumerId, occurredAt: e.occurredAt, holdId: e.holdId }));
  return {
    metered: inserted,
    merged: merged.length,
    duplicates: duplicates + (written - inserted.length - merged.length),
    deadLetters,
    stored,
  };
}

/** How often a chunk is priced again when books change under it before a meter gives up (and retries later). */
const PRICING_ATTEMPTS = 3;

/**
 * A book that changes between pricing and writing makes the chunk be priced again with the new
 * prices (stages/persist.ts). Books changing faster than that is an outage of sorts: the consumer
 * retries the batch later.
 */
async function pricedAndPersisted(deps: BatchDeps, entries: Entry[]) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await identifyPriceAndPersist(deps, entries);
    } catch (err) {
      if (!(err instanceof PricesMoved)) throw err;
      if (attempt >= PRICING_ATTEMPTS) throw new TransientFailure({ kind: "transient", message: err.message }, err);
    }
  }
}

/** The stages from identify to persist, whose lookups are repeated when prices moved underneath. */
async function identifyPriceAndPersist(deps: BatchDeps, entries: Entry[]) {
  const { identityOf, pricing, limits } = await lookups(
    deps,
    entries.map((e) => e.measured.call.owner),
  );
  const items: Item[] = [];
  const deadLetters: DeadLetter[] = [];
  for (const { message, measured } of entries) {
    const { call } = measured;
    const identity = identityOf(call.owner);
    if ("failed" in identity) {
      deadLetters.push({
        message,
        kind: "consumer_registration",
        reason: identity.failed,
        eventId: call.id,
        consumer: call.ownerLabel,
      });
      continue;
    }
    items.push({ message, event: meteredEvent(measured, identity.consumerId, pricing, limits, deps.config) });
  }
  const persisted = await persistIsolated(deps.db, deps.pool, items, {
    limitOf: (id, slot, level) => {
      const policy = limits.get(id);
      return policy ? cellLimit(policy.limits.tdlMatrix, slot, level) : 0;
    },
    merge: mergerFor(deps.config),
    billing: deps.config.billing,
  });
  return { items, persisted, deadLetters };
}

/** Price books indexed once per version, shared by every batch of this process. */
const DEFAULT_PLANS = new PlanCache();

/**
 * The batch's consumers, their plans, rate histories and limits. Reads cannot fail on data: any failure is transient.
 */
async function lookups(deps: BatchDeps, refs: Array<KongConsumerRef | undefined>) {
  const { db, config } = deps;
  try {
    const plan = config.metering.defaultPlan;
    const identityOf = await identify(db, refs, {
      prices: config.metering.defaultPrices,
      planId: async () => (plan ? defaultPlanId(db, plan) : null),
    });
    const consumerIds = [
      ...new Set(refs.map(identityOf).flatMap((i) => ("consumerId" in i && i.consumerId ? [i.consumerId] : []))),
    ];
    const policies = await policiesOf(db, consumerIds);
    const cache = deps.plans ?? DEFAULT_PLANS;
    const [plans, own] = [await cache.fromRefs(db, policies.plans), await cache.fromRefs(db, policies.own)];
    return {
      identityOf,
      pricing: { plans, own, rates: await rateHistories(db, consumerIds) },
      limits: policies.limits,
    };
  } catch (err) {
    if (err instanceof TransientFailure) throw err;
    throw new TransientFailure({ ...classifyDbError(err), kind: "transient" }, err);
  }
}

/**
 * The default plan's book id; a name no book has leaves registrations without a plan (their calls unpriced, never
 * free).
 */
async function defaultPlanId(db: Db, name: string): Promise<string | null> {
  return (await db.priceBook.findUnique({ where: { name }, select: { id: true } }))?.id ?? null;
}

type Limits = ConsumerPolicies["limits"];

function meteredEvent(
  { call, tokens, capability }: Measured,
  consumerId: string | null,
  pricing: Pricing,
  limits: Limits,
  config: Config,
): MeteredEvent {
  const { localDate, slot } = localSlotOf(call.occurredAt, config.billing.timeZone);
  const { cost, rate, unpriced } = price(
    pricing,
    consumerId,
    call.model,
    call.occurredAt,
    tokens.tokens,
    call.billable,
  );
  const policy = consumerId ? limits.get(consumerId) : undefined;
  return {
    id: call.id,
    consumerId,
    occurredAt: call.occurredAt,
    receivedAt: call.receivedAt,
    routeId: call.route.id,
    routeName: call.route.name,
    serviceId: call.service.id,
    serviceName: call.service.name,
    model: call.model,
    provider: call.provider,
    status: call.status,
    upstreamStatus: call.upstreamStatus,
    billable: call.billable,
    ...tokenColumns(tokens),
    reportedBy: [call.reportedBy],
    encoding: tokens.encoding,
    rate,
    cost,
    capability,
    localDate,
    slot,
    level: levelOf(tokens.tokens.input, config.tdl.levelBounds),
    limitFlags: policy
      ? limitFlagsOf(policy.limits, {
          capability,
          reachedUpstream: call.reachedUpstream,
          inputTokens: tokens.tokens.input,
          outputTokens: tokens.tokens.output,
        })
      : [],
    metadataVersion: policy?.metadataVersion,
    anomalies: unpriced ? [...tokens.anomalies, "unpriced"] : tokens.anomalies,
    holdId: call.holdId,
  };
}
