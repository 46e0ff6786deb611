// One batch of raw-topic messages through the stages, in order:
// parse -> identify -> tokenize -> price -> (aggregate + persist in one transaction).
// A message that cannot be metered becomes a dead letter; the rest of the batch goes on.
import type { Config } from "../../src/config.ts";
import type { PrismaClient } from "../../src/db/client.ts";
import { aiBlocks, finalUpstreamStatus, isBillable, modelOf, proxyBlock } from "../../src/domain/kong-log.ts";
import { capabilityOf, cellLimit, limitFlagsOf } from "../../src/domain/limits.ts";
import { levelOf, localSlotOf } from "../../src/domain/tdl.ts";
import { identify } from "./stages/identify.ts";
import type { MeteredEvent } from "./stages/metered-event.ts";
import { parseMessage, Poison, type ParsedEntry } from "./stages/parse.ts";
import { persist } from "./stages/persist.ts";
import { price } from "./stages/price.ts";
import { limitsOf, rateHistories } from "../../src/consumers/consumer.repository.ts";
import { payloadsOf, tokenize } from "./stages/tokenize.ts";

export type RawMessage = { value: Buffer | null; key?: Buffer | null; offset: string; partition: number; topic: string };
export type DeadLetter = { message: RawMessage; reason: string };
export type BatchResult = { insertedIds: Set<string>; duplicates: number; deadLetters: DeadLetter[] };

export type MeterDeps = { db: PrismaClient; config: Config };

/** Everything about one call that does not need the database. */
function measure(entry: ParsedEntry, config: Config) {
  const { log } = entry;
  const blocks = aiBlocks(log); // parsed once: every stage below reads them
  const proxy = proxyBlock(blocks);
  const payloads = payloadsOf(log, proxy);
  const model = modelOf(log, proxy, payloads.request, config.metering.modelByRoute);
  const tokens = tokenize(blocks, model, payloads, config.metering.defaultEncoding, config.metering.countBudgetMs);
  const occurredAt = new Date(log.started_at);
  const { localDate, slot } = localSlotOf(occurredAt, config.billing.timeZone);
  return {
    model,
    tokens,
    occurredAt,
    localDate,
    slot,
    level: levelOf(tokens.input, config.tdl.levelBounds),
    billable: isBillable(log),
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
    if (parsed instanceof Poison) deadLetters.push({ message, reason: parsed.reason });
    else if (seen.has(parsed.eventId)) duplicates++; // the same log twice in one batch
    else {
      seen.add(parsed.eventId);
      entries.push({ message, entry: parsed });
    }
  }

  const consumerOf = await identify(db, entries.map((e) => e.entry.log), {
    inputCostPerToken: config.metering.defaultInputCostPerToken,
    outputCostPerToken: config.metering.defaultOutputCostPerToken,
  });
  const consumerIds = [...new Set(entries.map((e) => consumerOf(e.entry.log)).filter((id): id is string => !!id))];
  const rates = await rateHistories(db, consumerIds);
  const limits = await limitsOf(db, consumerIds);

  const events: MeteredEvent[] = [];
  for (const { message, entry } of entries) {
    try {
      const m = measure(entry, config);
      const consumerId = consumerOf(entry.log);
      const { cost, rate } = price(rates, consumerId, m.occurredAt, m.tokens, m.billable);
      const { log } = entry;
      const policy = consumerId ? limits.get(consumerId) : undefined;
      events.push({
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
        upstreamStatus: log.upstream_status === undefined ? undefined : String(log.upstream_status),
        billable: m.billable,
        inputTokens: m.tokens.input,
        outputTokens: m.tokens.output,
        inputSource: m.tokens.inputSource,
        outputSource: m.tokens.outputSource,
        providerInputTokens: m.tokens.providerInput,
        providerOutputTokens: m.tokens.providerOutput,
        encoding: m.tokens.encoding,
        rate,
        cost,
        capability: m.capability,
        localDate: m.localDate,
        slot: m.slot,
        level: m.level,
        limitFlags: policy
          ? limitFlagsOf(policy.limits, { capability: m.capability, reachedUpstream: m.reachedUpstream, inputTokens: m.tokens.input, outputTokens: m.tokens.output })
          : [],
        metadataVersion: policy?.metadataVersion,
        anomalies: m.tokens.anomalies,
      });
    } catch (err) {
      deadLetters.push({ message, reason: `metering failed: ${(err as Error).message}` });
    }
  }

  const insertedIds = await persist(db, events, (id, slot, level) => {
    const policy = limits.get(id);
    return policy ? cellLimit(policy.limits.tdlMatrix, slot, level) : 0;
  });
  return { insertedIds, duplicates: duplicates + (events.length - insertedIds.size), deadLetters };
}
