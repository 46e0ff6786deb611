// Creating, reading and changing consumers, their metadata and their rate history.
// Each change is one transaction: a request is applied whole or not at all.
import type { ConsumerBody, MetadataInput } from "../api/schemas/consumer.ts";
import { isUniqueViolation, uniqueViolationTarget, type Db, type PrismaClient } from "../db/client.ts";
import { conflict, notFound, validationFailed } from "../domain/errors.ts";
import { Decimal, parsePrice } from "../domain/money.ts";
import { rateAt } from "../domain/pricing.ts";
import { emptyMatrix, parseMatrix } from "../domain/tdl.ts";
import { BEGINNING_OF_TIME, rateHistories } from "./consumer.repository.ts";

/** The configured prices of consumers created without any. */
export type PriceDefaults = { defaultInputCostPerToken: Decimal; defaultOutputCostPerToken: Decimal };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function priceOrFail(value: unknown, field: string): Decimal {
  const p = parsePrice(value);
  if ("error" in p) throw validationFailed(`${field}: ${p.error}`, field);
  return p;
}

/** Metadata fields as database columns; only the fields given. */
function metadataColumns(m: MetadataInput | undefined) {
  if (!m) return {};
  let tdlMatrix: object | undefined;
  if (m.tdl_matrix !== undefined) {
    const parsed = parseMatrix(m.tdl_matrix);
    if ("error" in parsed) {
      const field = ["metadata.tdl_matrix", parsed.path].filter(Boolean).join(".");
      throw validationFailed(`${field}: ${parsed.error}`, field);
    }
    tdlMatrix = parsed;
  }
  return {
    externalId: m.id,
    providerName: m.provider_name,
    tags: m.tags,
    tdlMatrix,
    capabilities: m.capabilities,
    maxInputTokens: m.max_input_tokens,
    maxOutputTokens: m.max_output_tokens,
  };
}

function uniqueConflict(err: unknown): never {
  if (isUniqueViolation(err)) {
    const target = uniqueViolationTarget(err);
    const field = ["kong_id", "username", "custom_id", "effective_from"].find((f) => target.includes(f)) ?? "consumer";
    throw conflict(`${field}: already taken by another ${field === "effective_from" ? "rate" : "consumer"}`, field);
  }
  throw err;
}

/** Finds a consumer by tokenmeter id, Kong id or username. */
export async function resolveConsumer(db: Db, ref: string) {
  const row = UUID.test(ref)
    ? await db.consumer.findFirst({ where: { OR: [{ id: ref }, { kongId: ref }] } })
    : await db.consumer.findUnique({ where: { username: ref } });
  if (!row) throw notFound(`consumer ${ref} not found`);
  return row;
}

export async function createConsumer(db: PrismaClient, input: ConsumerBody, defaults: PriceDefaults) {
  if (!input.username && !input.custom_id && !input.kong_id) {
    throw validationFailed("username: one of username, custom_id or kong_id is required", "username");
  }
  const m = input.metadata;
  const inputCost = m?.input_cost_per_token === undefined ? defaults.defaultInputCostPerToken : priceOrFail(m.input_cost_per_token, "metadata.input_cost_per_token");
  const outputCost = m?.output_cost_per_token === undefined ? defaults.defaultOutputCostPerToken : priceOrFail(m.output_cost_per_token, "metadata.output_cost_per_token");
  const columns = metadataColumns(m);
  try {
    return await db.consumer.create({
      data: {
        username: input.username,
        customId: input.custom_id,
        kongId: input.kong_id,
        ...columns,
        tdlMatrix: columns.tdlMatrix ?? emptyMatrix(),
        configured: true,
        rates: {
          create: {
            effectiveFrom: input.rates_effective_from ? new Date(input.rates_effective_from) : BEGINNING_OF_TIME,
            inputCostPerToken: inputCost.toFixed(),
            outputCostPerToken: outputCost.toFixed(),
          },
        },
      },
    });
  } catch (err) {
    uniqueConflict(err);
  }
}

export async function updateConsumer(db: PrismaClient, ref: string, input: ConsumerBody) {
  const m = input.metadata;
  const columns = metadataColumns(m);
  const newInput = m?.input_cost_per_token === undefined ? undefined : priceOrFail(m.input_cost_per_token, "metadata.input_cost_per_token");
  const newOutput = m?.output_cost_per_token === undefined ? undefined : priceOrFail(m.output_cost_per_token, "metadata.output_cost_per_token");
  try {
    return await db.$transaction(async (tx) => {
      const current = await resolveConsumer(tx, ref);
      if (newInput || newOutput) {
        const at = input.rates_effective_from ? new Date(input.rates_effective_from) : new Date();
        const history = (await rateHistories(tx, [current.id])).get(current.id) ?? [];
        // a change of one price keeps the other price in force at that time
        const inForce = rateAt(history, at);
        await tx.consumerRate.create({
          data: {
            consumerId: current.id,
            effectiveFrom: at,
            inputCostPerToken: (newInput ?? inForce?.inputCostPerToken ?? new Decimal(0)).toFixed(),
            outputCostPerToken: (newOutput ?? inForce?.outputCostPerToken ?? new Decimal(0)).toFixed(),
          },
        });
      }
      return tx.consumer.update({
        where: { id: current.id },
        data: { username: input.username, customId: input.custom_id, kongId: input.kong_id, ...columns, configured: true },
      });
    });
  } catch (err) {
    uniqueConflict(err);
  }
}

export async function addRate(db: PrismaClient, ref: string, rate: { effective_from: string; input_cost_per_token: unknown; output_cost_per_token: unknown }) {
  const input = priceOrFail(rate.input_cost_per_token, "input_cost_per_token");
  const output = priceOrFail(rate.output_cost_per_token, "output_cost_per_token");
  const consumer = await resolveConsumer(db, ref);
  try {
    return await db.consumerRate.create({
      data: { consumerId: consumer.id, effectiveFrom: new Date(rate.effective_from), inputCostPerToken: input.toFixed(), outputCostPerToken: output.toFixed() },
    });
  } catch (err) {
    uniqueConflict(err);
  }
}

export async function listRates(db: Db, consumerId: string) {
  return db.consumerRate.findMany({ where: { consumerId }, orderBy: { effectiveFrom: "asc" } });
}
