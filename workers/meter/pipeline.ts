// One batch of raw-topic messages through the stages, in order:
// parse -> identify -> tokenize -> price -> (aggregate + persist in one transaction).
// A message that cannot be metered becomes a dead letter; the rest of the batch goes on. A
// database that cannot be reached throws TransientFailure: the caller retries the whole batch.
import type { Config } from "../../src/config.ts";
import type { PrismaClient } from "../../src/db/client.ts";
import type { SqlPool } from "../../src/db/pool.ts";
import { aiBlocks, finalUpstreamStatus, isBillable, modelOf, proxyBlock } from "../../src/domain/kong-log.ts";
import { capabilityOf, cellLimit, limitFlagsOf } from "../../src/domain/limits.ts";
import { levelOf, localSlotOf } from "../../src/domain/tdl.ts";
import { identify } from "./stages/identify.ts";
import type { MeteredEvent } from "./stages/metered-event.ts";
import { parseMessage, Poison, type ParsedEntry } from "./stages/parse.ts";
import { classifyDbError, TransientFailure } from "../../src/db/errors.ts";
import { persistIsolated } from "./isolate.ts";
import { price } from "./stages/price.ts";
import { limitsOf, rateHistories } from "../../src/consumers/consumer.repository.ts";
import type { Rate } from "../../src/domain/pricing.ts";
import type { Item } from "./isolate.ts";
import type { Metrics } from "../../src/ops/metrics.ts";
import { payloadsOf, tokenize } from "./stages/tokenize.ts";
import { tokenColumns } from "./stages/token-columns.ts";
import { HTTP_LOG_REPORT } from "../../src/domain/reports.ts";

export type RawMessage = { value: Buffer | null; key?: Buffer | null; offset: string; partition: number; topic: string };
/** Why a message was dead-lettered, as a bounded class (metrics, filters) beside the sentence. */
export type DeadLetterKind = "parse" | "consumer_registration" | "metering" | "database_data" | "database_unclassified";
export type DeadLetter = { message: RawMessage; kind: DeadLetterKind; reason: string; eventId?: string; consumer?: string };
export type BatchResult = {
  /** The events this batch inserted (not the duplicates). */
  metered: MeteredEvent[];
  duplicates: number;
  deadLetters: DeadLetter[];
};

export type MeterDeps = { db: PrismaClient; pool: SqlPool; config: Config; metrics?: Metrics };

/** Everything about one call that does not need the database. */
function measure(entry: ParsedEntry, config: Config, metrics?: Metrics) {
  const { log } = entry;
  const blocks = aiBlocks(log); // parsed once: every stage below reads them
  const proxy = proxyBlock(blocks);
  const m = config.metering;
  const payloads = payloadsOf(log, proxy, { request: m.requestBodyPaths, response: m.responseBodyPaths });
  const model = modelOf(log, proxy, payloads.request?.body, m.modelByRoute);
  const billable = isBillable(log);
  const t0 = performance.now();
  const tokens = tokenize(blocks, model, payloads, {
    fallback: m.defaultEncoding,
    budgetMs: m.countBudgetMs,
    providerFirst: m.providerBilled(model),
    billable,
  });
  metrics?.tokenizeSeconds.observe((performance.now() - t0) / 1000);
  const occurredAt = new Date(log.started_at);
  const { localDate, slot } = localSlotOf(occurredAt, config.billing.timeZone);
  return {
    model,
    tokens,
    occurredAt,
    localDate,
    slot,
    level: levelOf(tokens.tokens.input, config.tdl.levelBounds),
    billable,
    provider: proxy?.provider,
    capability: capabilityOf([log.route?.name, log.route?.id, model], config.metering.capabilityMap),
    // Kong's own answers (401, its 429) never reached the provider
    reachedUpstream: finalUpstreamStatus(log) !== null && log.source !== "kong",
  };
}

export async function meterBatch(messages: RawMessage[], deps: MeterDeps): Promise<BatchResult> {
  const { db, config } = deps;
  const deadLetters: DeadLetter[] = [];
  const entries: Array<{ message: RawMessage; entry: ParsedEntry }> = [];
  const seen = new Set<string>();
  let duplicates = 0;
  for (const message of messages) {
    const parsed = parseMessage(message.value);
    if (parsed instanceof Poison) deadLetters.push({ message, kind: "parse", reason: parsed.reason });
    else if (seen.has(parsed.eventId)) duplicates++; // the same log twice in one batch
    else {
      seen.add(parsed.eventId);
      entries.push({ message, entry: parsed });
    }
  }

  const { identityOf, rates, limits } = await lookups(deps, entries.map((e) => e.entry.log));
  const items: Item[] = [];
  for (const { message, entry } of entries) {
    const identity = identityOf(entry.log);
    if ("failed" in identity) {
      deadLetters.push({ message, kind: "consumer_registration", reason: identity.failed, eventId: entry.eventId, consumer: consumerLabel(entry) });
      continue;
    }
    try {
      items.push({ message, event: meteredEvent(entry, identity.consumerId, rates, limits, config, deps.metrics) });
    } catch (err) {
      deadLetters.push({ message, kind: "metering", reason: `metering failed: ${(err as Error).message}`, eventId: entry.eventId, consumer: consumerLabel(entry) });
    }
  }

  const persisted = await persistIsolated(db, deps.pool, items, (id, slot, level) => {
    const policy = limits.get(id);
    return policy ? cellLimit(policy.limits.tdlMatrix, slot, level) : 0;
  });
  deadLetters.push(...persisted.deadLetters);
  const written = items.length - persisted.deadLetters.length;
  const metered = items.filter((i) => persisted.insertedIds.has(i.event.id)).map((i) => i.event);
  return { metered, duplicates: duplicates + (written - metered.length), deadLetters };
}

/** The batch's consumers, their rate histories and limits. Reads cannot fail on data: any failure is transient. */
async function lookups(deps: MeterDeps, logs: ParsedEntry["log"][]) {
  const { db, config } = deps;
  try {
    const identityOf = await identify(db, logs, {
      inputCostPerToken: config.metering.defaultInputCostPerToken,
      outputCostPerToken: config.metering.defaultOutputCostPerToken,
    });
    const consumerIds = [...new Set(logs.map((l) => identityOf(l)).flatMap((i) => ("consumerId" in i && i.consumerId ? [i.consumerId] : [])))];
    return { identityOf, rates: await rateHistories(db, consumerIds), limits: await limitsOf(db, consumerIds) };
  } catch (err) {
    if (err instanceof TransientFailure) throw err;
    throw new TransientFailure({ ...classifyDbError(err), kind: "transient" }, err);
  }
}

type Limits = Awaited<ReturnType<typeof limitsOf>>;

/** The Kong consumer a log names, for log lines. */
function consumerLabel(entry: ParsedEntry): string | undefined {
  const c = entry.log.consumer;
  return c?.username ?? c?.id ?? c?.custom_id;
}

function meteredEvent(entry: ParsedEntry, consumerId: string | null, rates: Map<string, Rate[]>, limits: Limits, config: Config, metrics?: Metrics): MeteredEvent {
  const m = measure(entry, config, metrics);
  const { cost, rate } = price(rates, consumerId, m.occurredAt, m.tokens.tokens, m.billable);
  const { log } = entry;
  const policy = consumerId ? limits.get(consumerId) : undefined;
  return {
    id: entry.eventId,
    consumerId,
    occurredAt: m.occurredAt,
    receivedAt: entry.receivedAt,
    routeId: log.route?.id,
    routeName: log.route?.name,
    serviceId: log.service?.id,
    serviceName: log.service?.name,
    model: m.model,
    provider: m.provider,
    status: log.response.status,
    upstreamStatus: log.upstream_status,
    billable: m.billable,
    ...tokenColumns(m.tokens),
    reportedBy: [HTTP_LOG_REPORT],
    encoding: m.tokens.encoding,
    rate,
    cost,
    capability: m.capability,
    localDate: m.localDate,
    slot: m.slot,
    level: m.level,
    limitFlags: policy
      ? limitFlagsOf(policy.limits, { capability: m.capability, reachedUpstream: m.reachedUpstream, inputTokens: m.tokens.tokens.input, outputTokens: m.tokens.tokens.output })
      : [],
    metadataVersion: policy?.metadataVersion,
    anomalies: m.tokens.anomalies,
  };
}
