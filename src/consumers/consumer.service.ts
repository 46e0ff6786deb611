// Creating, reading and changing consumers, their metadata and their rate history.
// Each change is one transaction: a request is applied whole or not at all, and every change of
// metadata is recorded as a version.
import type { ConsumerBody, MetadataInput } from "./consumer.schema.ts";
import { isUniqueViolation, uniqueViolationTarget, type Db, type Prisma, type PrismaClient } from "../db/client.ts";
import { conflict, notFound, validationFailed } from "../domain/errors.ts";
import { Decimal } from "../domain/money.ts";
import { rateAt } from "../domain/pricing.ts";
import { emptyMatrix } from "../domain/tdl.ts";
import { isUuid } from "../domain/field-types.ts";
import { canonicalJson } from "../domain/json.ts";
import { BEGINNING_OF_TIME, rateHistories } from "./consumer.repository.ts";
import { recordVersion, snapshotOf, type Actor, type MetadataSnapshot } from "./metadata.ts";
import { refuseRepricingFinalized } from "./rate-guard.ts";
import { applyRate } from "../billing/repricing.ts";

/** The configured prices of consumers created without any (null: none, their calls are unpriced). */
export type PriceDefaults = { defaultPrices: { inputCostPerToken: Decimal; outputCostPerToken: Decimal } | null };

/** One price of the input/output pair without the other would bill the other at zero: refused, naming it. */
function refuseHalfPair(given: { input?: Decimal; output?: Decimal }): void {
  if ((given.input === undefined) === (given.output === undefined)) return;
  const missing = given.input === undefined ? "input_cost_per_token" : "output_cost_per_token";
  throw validationFailed(
    `metadata.${missing}: is required with the other price of the pair (state "0" for a free one)`,
    `metadata.${missing}`,
  );
}

/** Metadata fields as database columns; only the fields given. */
function metadataColumns(m: MetadataInput | undefined) {
  if (!m) return {};
  return {
    externalId: m.id,
    providerName: m.provider_name,
    tags: m.tags,
    tdlMatrix: m.tdl_matrix,
    capabilities: m.capabilities,
    maxInputTokens: m.max_input_tokens,
    maxOutputTokens: m.max_output_tokens,
  };
}

/** A unique violation as a 409 naming the field; any other error as it is. */
export function uniqueConflict(err: unknown): never {
  if (isUniqueViolation(err)) {
    const target = uniqueViolationTarget(err);
    const field = ["kong_id", "username", "custom_id", "effective_from"].find((f) => target.includes(f)) ?? "consumer";
    throw conflict(`${field}: already taken by another ${field === "effective_from" ? "rate" : "consumer"}`, field);
  }
  throw err;
}

/** Finds a consumer by tokenmeter id, Kong id or username. */
export async function resolveConsumer(db: Db, ref: string) {
  const row = isUuid(ref)
    ? await db.consumer.findFirst({ where: { OR: [{ id: ref }, { kongId: ref }] } })
    : await db.consumer.findUnique({ where: { username: ref } });
  if (!row) throw notFound(`consumer ${ref} not found`);
  return row;
}

type Tx = Prisma.TransactionClient;
export type ConsumerChange = { consumer: ConsumerRow; created: boolean; changed: string[]; version: number | null };
type ConsumerRow = NonNullable<Awaited<ReturnType<Db["consumer"]["findFirst"]>>>;

async function snapshotNow(tx: Tx, consumerId: string): Promise<MetadataSnapshot> {
  const row = await tx.consumer.findUniqueOrThrow({ where: { id: consumerId } });
  return snapshotOf(row, (await rateHistories(tx, [consumerId])).get(consumerId) ?? []);
}

/** Creates a consumer with its first rate and metadata version 1, in the caller's transaction. */
export async function createConsumerIn(
  tx: Tx,
  input: ConsumerBody,
  defaults: PriceDefaults,
  by: Actor,
): Promise<ConsumerChange> {
  if (!input.username && !input.custom_id && !input.kong_id) {
    throw validationFailed("username: one of username, custom_id or kong_id is required", "username");
  }
  const m = input.metadata;
  refuseHalfPair({ input: m?.input_cost_per_token, output: m?.output_cost_per_token });
  const given =
    m?.input_cost_per_token !== undefined
      ? { inputCostPerToken: m.input_cost_per_token, outputCostPerToken: m.output_cost_per_token! }
      : defaults.defaultPrices;
  const columns = metadataColumns(m);
  const created = await tx.consumer.create({
    data: {
      username: input.username,
      customId: input.custom_id,
      kongId: input.kong_id,
      ...columns,
      tdlMatrix: columns.tdlMatrix ?? emptyMatrix(),
      configured: true,
      // no price given and none configured: no rate, so its calls are unpriced until a rate or plan prices them
      ...(given
        ? {
            rates: {
              create: {
                effectiveFrom: input.rates_effective_from ? new Date(input.rates_effective_from) : BEGINNING_OF_TIME,
                inputCostPerToken: given.inputCostPerToken.toFixed(),
                outputCostPerToken: given.outputCostPerToken.toFixed(),
              },
            },
          }
        : {}),
    },
  });
  const recorded = await recordVersion(tx, created.id, null, await snapshotNow(tx, created.id), by);
  const version = recorded?.version ?? null;
  const consumer = await tx.consumer.findUniqueOrThrow({ where: { id: created.id } });
  return { consumer, created: true, changed: recorded?.fields ?? [], version };
}

const IDENTITY_FIELDS: Record<string, string> = { username: "username", customId: "custom_id", kongId: "kong_id" };

/** Values of `columns` that differ from the row's; undefined ones are not being set. */
function differingColumns(row: Record<string, unknown>, columns: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(columns).filter(([k, v]) => v !== undefined && canonicalJson(v) !== canonicalJson(row[k])),
  );
}

/**
 * Changes only what differs, in the caller's transaction: a price that equals the one in force at
 * `rates_effective_from` (default now) adds no rate, and a change of nothing records no version.
 */
export async function updateConsumerIn(
  tx: Tx,
  current: ConsumerRow,
  input: ConsumerBody,
  by: Actor,
): Promise<ConsumerChange> {
  const m = input.metadata;
  const newInput = m?.input_cost_per_token;
  const newOutput = m?.output_cost_per_token;
  const history = (await rateHistories(tx, [current.id])).get(current.id) ?? [];
  const before = snapshotOf(current, history);

  const at = input.rates_effective_from ? new Date(input.rates_effective_from) : new Date();
  const inForce = rateAt(history, at);
  if (!inForce) refuseHalfPair({ input: newInput, output: newOutput });
  const priceChanged = (p: Decimal | undefined, old: Decimal | undefined) => p !== undefined && !(old && p.equals(old));
  if (priceChanged(newInput, inForce?.inputCostPerToken) || priceChanged(newOutput, inForce?.outputCostPerToken)) {
    await refuseRepricingFinalized(tx, current.id, at, "rates_effective_from");
    // a change of one price keeps the other price in force at that time
    const created = await tx.consumerRate.create({
      data: {
        consumerId: current.id,
        effectiveFrom: at,
        inputCostPerToken: (newInput ?? inForce?.inputCostPerToken ?? new Decimal(0)).toFixed(),
        outputCostPerToken: (newOutput ?? inForce?.outputCostPerToken ?? new Decimal(0)).toFixed(),
        // the metadata carries two prices: the other types' own prices stay as they were
        cachedInputCostPerToken: inForce?.cachedInputCostPerToken?.toFixed() ?? null,
        cacheWriteCostPerToken: inForce?.cacheWriteCostPerToken?.toFixed() ?? null,
        reasoningCostPerToken: inForce?.reasoningCostPerToken?.toFixed() ?? null,
      },
    });
    await applyRate(tx, created);
  }

  const data = differingColumns(current, {
    username: input.username,
    customId: input.custom_id,
    kongId: input.kong_id,
    ...metadataColumns(m),
    configured: true,
  });
  if (Object.keys(data).length > 0) await tx.consumer.update({ where: { id: current.id }, data });
  // a rename (or a new Kong id) is recorded in the same version as the metadata it came with
  const identity = Object.fromEntries(
    Object.keys(data)
      .filter((k) => IDENTITY_FIELDS[k])
      .map((k) => [IDENTITY_FIELDS[k]!, { from: (current as Record<string, unknown>)[k] ?? null, to: data[k] }]),
  );
  const recorded = await recordVersion(tx, current.id, before, await snapshotNow(tx, current.id), by, identity);
  return {
    consumer: await tx.consumer.findUniqueOrThrow({ where: { id: current.id } }),
    created: false,
    changed: recorded?.fields ?? [],
    version: recorded?.version ?? null,
  };
}

/** `then` runs in the same transaction once the consumer exists (a plan to set): all of it or none. */
export async function createConsumer(
  db: PrismaClient,
  input: ConsumerBody,
  defaults: PriceDefaults,
  by: Actor,
  then?: (tx: Tx, consumerId: string) => Promise<void>,
) {
  try {
    return await db.$transaction(async (tx) => {
      const change = await createConsumerIn(tx, input, defaults, by);
      await then?.(tx, change.consumer.id);
      return change;
    });
  } catch (err) {
    uniqueConflict(err);
  }
}

export async function updateConsumer(db: PrismaClient, ref: string, input: ConsumerBody, by: Actor) {
  try {
    return await db.$transaction(async (tx) => updateConsumerIn(tx, await resolveConsumer(tx, ref), input, by));
  } catch (err) {
    uniqueConflict(err);
  }
}

/**
 * Adds a rate and reprices the calls it covers. A rate inside a period a finalized invoice billed
 * is refused unless it is sent as a correction: the difference is then billed on the next invoice.
 */
export async function addRate(
  db: PrismaClient,
  ref: string,
  rate: {
    effective_from: string;
    input_cost_per_token: Decimal;
    output_cost_per_token: Decimal;
    cached_input_cost_per_token?: Decimal;
    cache_write_cost_per_token?: Decimal;
    reasoning_cost_per_token?: Decimal;
    correction?: { reason: string };
  },
  by: Actor,
) {
  try {
    return await db.$transaction(
      async (tx) => {
        const consumer = await resolveConsumer(tx, ref);
        const effectiveFrom = new Date(rate.effective_from);
        if (!rate.correction) await refuseRepricingFinalized(tx, consumer.id, effectiveFrom, "effective_from");
        const before = await snapshotNow(tx, consumer.id);
        const created = await tx.consumerRate.create({
          data: {
            consumerId: consumer.id,
            effectiveFrom,
            inputCostPerToken: rate.input_cost_per_token.toFixed(),
            outputCostPerToken: rate.output_cost_per_token.toFixed(),
            cachedInputCostPerToken: rate.cached_input_cost_per_token?.toFixed() ?? null,
            cacheWriteCostPerToken: rate.cache_write_cost_per_token?.toFixed() ?? null,
            reasoningCostPerToken: rate.reasoning_cost_per_token?.toFixed() ?? null,
          },
        });
        const applied = await applyRate(
          tx,
          created,
          rate.correction ? { reason: rate.correction.reason, actor: by.actor } : undefined,
        );
        // a rate in the future changes no snapshot yet; the rate history itself is the record
        await recordVersion(tx, consumer.id, before, await snapshotNow(tx, consumer.id), by);
        return { rate: created, ...applied };
      },
      { timeout: 60_000 },
    );
  } catch (err) {
    uniqueConflict(err);
  }
}

/** Deletes a rate that has not taken effect yet (a mistaken future rate); one in force is part of history. */
export async function deleteFutureRate(db: PrismaClient, ref: string, rateId: string, by: Actor, now = new Date()) {
  return db.$transaction(async (tx) => {
    const consumer = await resolveConsumer(tx, ref);
    const rate = await tx.consumerRate.findFirst({ where: { id: rateId, consumerId: consumer.id } });
    if (!rate) throw notFound(`no rate ${rateId} for this consumer`);
    if (rate.effectiveFrom <= now) {
      throw conflict(
        `rate: took effect at ${rate.effectiveFrom.toISOString()}; only a rate that has not taken effect yet can be deleted (add a new rate instead)`,
        "rate",
      );
    }
    await tx.consumerRate.delete({ where: { id: rate.id } });
    // the snapshot in force does not change; the deletion is recorded as a change of its own
    const removed = {
      effective_from: rate.effectiveFrom.toISOString(),
      input_cost_per_token: rate.inputCostPerToken.toFixed(),
      output_cost_per_token: rate.outputCostPerToken.toFixed(),
    };
    const { metadataVersion } = await tx.consumer.update({
      where: { id: consumer.id },
      data: { metadataVersion: { increment: 1 } },
      select: { metadataVersion: true },
    });
    await tx.consumerMetadataVersion.create({
      data: {
        consumerId: consumer.id,
        version: metadataVersion,
        actor: by.actor,
        source: by.source,
        changes: { future_rate: { from: removed, to: null } },
        snapshot: (await snapshotNow(tx, consumer.id)) as object,
      },
    });
    return consumer.id;
  });
}
