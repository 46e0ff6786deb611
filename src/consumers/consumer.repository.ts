// Consumers and their rate history in PostgreSQL.
import { isUniqueViolation, type Db } from "../db/client.ts";
import { Decimal } from "../domain/money.ts";
import type { Rate } from "../domain/pricing.ts";
import type { Limits } from "../domain/limits.ts";
import { emptyMatrix, type TdlMatrix } from "../domain/tdl.ts";

import type { KongConsumerRef } from "../domain/kong-log.ts";

/** Rates given at creation apply to every event, however old, until a later rate takes over. */
export const BEGINNING_OF_TIME = new Date(0);

/**
 * Looks up consumers by Kong id, username or custom id in one query, and returns a matcher that
 * prefers the Kong id, then the username, then the custom id.
 */
export async function findByKongRefs(db: Db, refs: KongConsumerRef[]) {
  const kongIds = refs.flatMap((r) => (r.kongId ? [r.kongId] : []));
  const usernames = refs.flatMap((r) => (r.username ? [r.username] : []));
  const customIds = refs.flatMap((r) => (r.customId ? [r.customId] : []));
  const rows = refs.length
    ? await db.consumer.findMany({
        where: { OR: [{ kongId: { in: kongIds } }, { username: { in: usernames } }, { customId: { in: customIds } }] },
        select: { id: true, kongId: true, username: true, customId: true },
      })
    : [];
  return (ref: KongConsumerRef): string | undefined =>
    (ref.kongId && rows.find((r) => r.kongId === ref.kongId)?.id) ||
    (ref.username && rows.find((r) => r.username === ref.username)?.id) ||
    (ref.customId && rows.find((r) => r.customId === ref.customId)?.id) ||
    undefined;
}

/** What a consumer first seen in a log is billed by: default prices and/or a default plan (a book's id). */
export type RegistrationPricing = {
  prices: { inputCostPerToken: Decimal; outputCostPerToken: Decimal } | null;
  planId: string | null;
};

/** Registers a consumer first seen in a log. Concurrent registration of the same one is harmless. */
export async function registerUnconfigured(
  db: Db,
  ref: KongConsumerRef,
  pricing: RegistrationPricing,
): Promise<string> {
  const { prices, planId } = pricing;
  try {
    const created = await db.consumer.create({
      data: {
        kongId: ref.kongId,
        username: ref.username,
        customId: ref.customId,
        configured: false,
        tdlMatrix: emptyMatrix(),
        planId,
        ...(prices
          ? {
              rates: {
                create: {
                  effectiveFrom: BEGINNING_OF_TIME,
                  inputCostPerToken: prices.inputCostPerToken.toFixed(),
                  outputCostPerToken: prices.outputCostPerToken.toFixed(),
                },
              },
            }
          : {}),
      },
      select: { id: true },
    });
    return created.id;
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    const match = (await findByKongRefs(db, [ref]))(ref);
    if (!match) throw err;
    return match;
  }
}

type Price = { toFixed(): string };
/** A consumer_rates row as Prisma or pg returns it (any decimal type). */
export type StoredRate = {
  id: string;
  effectiveFrom: Date;
  inputCostPerToken: Price;
  outputCostPerToken: Price;
  cachedInputCostPerToken?: Price | null;
  cacheWriteCostPerToken?: Price | null;
  reasoningCostPerToken?: Price | null;
  requestFee?: Price | null;
};
const decimalOrNull = (v: Price | null | undefined) => (v ? new Decimal(v.toFixed()) : null);

/** A stored rate with its prices as our Decimal (Prisma's Decimal is a different class). */
export function rateFromRow(r: StoredRate): Rate {
  return {
    id: r.id,
    effectiveFrom: r.effectiveFrom,
    inputCostPerToken: new Decimal(r.inputCostPerToken.toFixed()),
    outputCostPerToken: new Decimal(r.outputCostPerToken.toFixed()),
    cachedInputCostPerToken: decimalOrNull(r.cachedInputCostPerToken),
    cacheWriteCostPerToken: decimalOrNull(r.cacheWriteCostPerToken),
    reasoningCostPerToken: decimalOrNull(r.reasoningCostPerToken),
    ...(r.requestFee ? { requestFee: decimalOrNull(r.requestFee) } : {}),
  };
}

/** Rate histories of several consumers in one query, oldest first. */
export async function rateHistories(db: Db, consumerIds: string[]): Promise<Map<string, Rate[]>> {
  const byConsumer = new Map<string, Rate[]>();
  if (consumerIds.length === 0) return byConsumer;
  const rows = await db.consumerRate.findMany({
    where: { consumerId: { in: consumerIds } },
    orderBy: { effectiveFrom: "asc" },
  });
  for (const r of rows) {
    const list = byConsumer.get(r.consumerId) ?? [];
    list.push(rateFromRow(r));
    byConsumer.set(r.consumerId, list);
  }
  return byConsumer;
}

/** What the meter reads of each consumer: limits and metadata version (configured ones only) and the plan. */
export type ConsumerPolicies = {
  limits: Map<string, { limits: Limits; metadataVersion: number }>;
  /** Consumers billed by a book: the book and the markup. */
  /** viaTag: the plan is the one of a tag the consumer carries (it has none of its own). */
  plans: Array<{
    consumerId: string;
    book: { id: string; name: string; version: number };
    markupPercent: Decimal | null;
    viaTag?: string;
  }>;
  /** Consumers with prices of their own (overrides): their book. */
  own: Array<{ consumerId: string; book: { id: string; name: string; version: number }; markupPercent: null }>;
};

/** The plans of these tags, by tag. */
async function tagPlans(db: Db, tags: string[]) {
  const rows = tags.length
    ? await db.tagPlan.findMany({
        where: { tag: { in: [...new Set(tags)] } },
        include: { book: { select: { id: true, name: true, version: true } } },
      })
    : [];
  return new Map(
    rows.map((r) => [
      r.tag,
      { book: r.book, markupPercent: r.markupPercent === null ? null : new Decimal(r.markupPercent.toFixed()) },
    ]),
  );
}

/**
 * Limits, metadata versions and plans of several consumers (one query, and one for their tags'
 * plans); unconfigured ones have no limits. A consumer's own plan comes first, then the plan of
 * the first of its tags that has one.
 */
export async function policiesOf(db: Db, consumerIds: string[]): Promise<ConsumerPolicies> {
  const rows = consumerIds.length
    ? await db.consumer.findMany({
        where: { id: { in: consumerIds } },
        select: {
          id: true,
          configured: true,
          tags: true,
          capabilities: true,
          maxInputTokens: true,
          maxOutputTokens: true,
          tdlMatrix: true,
          metadataVersion: true,
          planMarkupPercent: true,
          plan: { select: { id: true, name: true, version: true } },
          ownPrices: { select: { id: true, name: true, version: true } },
        },
      })
    : [];
  const limits = new Map(
    rows
      .filter((r) => r.configured)
      .map((r) => [
        r.id,
        {
          limits: {
            capabilities: r.capabilities,
            maxInputTokens: r.maxInputTokens,
            maxOutputTokens: r.maxOutputTokens,
            tdlMatrix: r.tdlMatrix as TdlMatrix,
          },
          metadataVersion: r.metadataVersion,
        },
      ]),
  );
  const byTag = await tagPlans(
    db,
    rows.filter((r) => !r.plan).flatMap((r) => r.tags),
  );
  const plans = rows.flatMap((r) => {
    if (r.plan)
      return [
        {
          consumerId: r.id,
          book: r.plan,
          markupPercent: r.planMarkupPercent === null ? null : new Decimal(r.planMarkupPercent.toFixed()),
        },
      ];
    const tag = r.tags.find((t) => byTag.has(t));
    return tag === undefined ? [] : [{ consumerId: r.id, ...byTag.get(tag)!, viaTag: tag }];
  });
  const own = rows.flatMap((r) => (r.ownPrices ? [{ consumerId: r.id, book: r.ownPrices, markupPercent: null }] : []));
  return { limits, plans, own };
}
