// Price books and plans: create a book, add a price to one of its entries from a given time on,
// give a consumer a book as its plan. Each change is one transaction that also reprices the calls
// it now covers (repricing.ts); a change reaching into a finalized invoice's period is a 409.
import { isUniqueViolation, Prisma, uniqueViolationTarget, type Db, type PrismaClient } from "../db/client.ts";
import { conflict, notFound, validationFailed } from "../domain/errors.ts";
import { Decimal } from "../domain/money.ts";
import { isUuid } from "../domain/field-types.ts";
import { BEGINNING_OF_TIME } from "../consumers/consumer.repository.ts";
import { resolveConsumer } from "../consumers/consumer.service.ts";
import { refuseRepricingFinalized } from "../consumers/rate-guard.ts";
import { repriceConsumers, type Correction } from "./repricing.ts";

/** A change that reprices calls runs in one transaction: room for a backdated price over many calls. */
const REPRICING_TX = { timeout: 60_000, maxWait: 10_000 };

export type PriceInput = {
  model: string;
  /** ISO 8601 with offset (checked by the route's schema). */
  effective_from?: string;
  input_cost_per_token: Decimal;
  output_cost_per_token: Decimal;
  cached_input_cost_per_token?: Decimal;
  cache_write_cost_per_token?: Decimal;
  reasoning_cost_per_token?: Decimal;
  request_fee?: Decimal;
  tiering?: TieringInput;
};
type TierInput = {
  above: number;
  input_cost_per_token: Decimal;
  output_cost_per_token: Decimal;
  cached_input_cost_per_token?: Decimal;
  cache_write_cost_per_token?: Decimal;
  reasoning_cost_per_token?: Decimal;
};
export type TieringInput =
  | { mode: "graduated" | "volume"; tiers: TierInput[] }
  | { mode: "package"; package_size: number };
type PlanAmounts = { fee_per_period?: Decimal | null; minimum_per_period?: Decimal | null };
export type BookInput = { name: string; description?: string; prices?: PriceInput[] } & PlanAmounts;

/** A tiering as stored: prices as exact decimal strings (read back by tieringFromJson). */
function tieringJson(t: TieringInput | undefined) {
  if (!t) return Prisma.DbNull;
  if (t.mode === "package") return { mode: t.mode, package_size: t.package_size };
  const text = (d: Decimal | undefined) => d?.toFixed() ?? null;
  return {
    mode: t.mode,
    tiers: t.tiers.map((x) => ({
      above: x.above,
      input_cost_per_token: text(x.input_cost_per_token),
      output_cost_per_token: text(x.output_cost_per_token),
      cached_input_cost_per_token: text(x.cached_input_cost_per_token),
      cache_write_cost_per_token: text(x.cache_write_cost_per_token),
      reasoning_cost_per_token: text(x.reasoning_cost_per_token),
    })),
  };
}

const amountColumns = (b: PlanAmounts) => ({
  ...(b.fee_per_period !== undefined ? { feePerPeriod: b.fee_per_period?.toFixed() ?? null } : {}),
  ...(b.minimum_per_period !== undefined ? { minimumPerPeriod: b.minimum_per_period?.toFixed() ?? null } : {}),
});

const priceColumns = (p: PriceInput) => ({
  model: p.model.trim().toLowerCase(),
  effectiveFrom: p.effective_from ? new Date(p.effective_from) : BEGINNING_OF_TIME,
  inputCostPerToken: p.input_cost_per_token.toFixed(),
  outputCostPerToken: p.output_cost_per_token.toFixed(),
  cachedInputCostPerToken: p.cached_input_cost_per_token?.toFixed() ?? null,
  cacheWriteCostPerToken: p.cache_write_cost_per_token?.toFixed() ?? null,
  reasoningCostPerToken: p.reasoning_cost_per_token?.toFixed() ?? null,
  requestFee: p.request_fee?.toFixed() ?? null,
  tiering: tieringJson(p.tiering),
});

/** A book by id or name. */
export async function resolveBook(db: Db, ref: string) {
  const row = isUuid(ref)
    ? await db.priceBook.findUnique({ where: { id: ref } })
    : await db.priceBook.findUnique({ where: { name: ref } });
  if (!row) throw notFound(`price book ${ref} not found`);
  return row;
}

/** A unique violation as a 409 naming the field; any other error as it is. */
function duplicateEntry(err: unknown): never {
  if (!isUniqueViolation(err)) throw err;
  const target = uniqueViolationTarget(err);
  if (target.includes("effective_from"))
    throw conflict("prices: two prices of one entry take effect at the same time", "prices");
  throw conflict("name: a price book of that name exists", "name");
}

export async function createBook(db: Db, input: BookInput) {
  try {
    return await db.priceBook.create({
      data: {
        name: input.name,
        description: input.description,
        ...amountColumns(input),
        prices: { create: (input.prices ?? []).map(priceColumns) },
      },
      include: { prices: { orderBy: [{ model: "asc" }, { effectiveFrom: "asc" }] } },
    });
  } catch (err) {
    duplicateEntry(err);
  }
}

/** A book's description, fee and minimum per period; they apply to invoices drafted from now on. */
export async function changeBook(db: Db, bookRef: string, input: { description?: string } & PlanAmounts) {
  const book = await resolveBook(db, bookRef);
  return db.priceBook.update({
    where: { id: book.id },
    data: { description: input.description, ...amountColumns(input) },
  });
}

/** Consumers whose plan is the book: their own, or their tag's when they have none of their own. */
async function consumersOfBook(tx: Db, bookId: string): Promise<string[]> {
  const tags = (await tx.tagPlan.findMany({ where: { bookId }, select: { tag: true } })).map((t) => t.tag);
  const rows = await tx.consumer.findMany({
    where: { OR: [{ planId: bookId }, ...(tags.length ? [{ planId: null, tags: { hasSome: tags } }] : [])] },
    select: { id: true },
  });
  return rows.map((c) => c.id);
}

/**
 * After prices were added to the book from `from` on: bumps its version (caches and the meter's
 * check compare it) and reprices the calls of the consumers it prices (its plan's, or the one whose
 * own prices it holds). A change reaching into a finalized invoice's period is refused unless it
 * is a correction.
 */
async function pricesAdded(
  tx: Db,
  book: { id: string; ownerConsumerId: string | null },
  from: Date,
  correction?: Correction,
) {
  await tx.priceBook.update({ where: { id: book.id }, data: { version: { increment: 1 } } });
  const consumerIds = book.ownerConsumerId ? [book.ownerConsumerId] : await consumersOfBook(tx, book.id);
  if (!correction) for (const id of consumerIds) await refuseRepricingFinalized(tx, id, from, "effective_from");
  return { consumerIds, ...(await repriceConsumers(tx, consumerIds, from, correction)) };
}

/** The book a plan names: a consumer's own prices are never a plan. */
export async function planBook(tx: Db, ref: string | null) {
  const book = ref === null ? null : await resolveBook(tx, ref);
  if (book?.ownerConsumerId)
    throw validationFailed("price_book: that book holds one consumer's own prices; it cannot be a plan", "price_book");
  return book;
}

/**
 * Adds one price version to an entry of the book, repricing its consumers' calls from then on. One
 * reaching into a finalized invoice's period is refused unless it is a correction, whose difference
 * each consumer's next invoice bills as price correction lines.
 */
export async function addPrice(db: PrismaClient, bookRef: string, input: PriceInput, correction?: Correction) {
  try {
    return await db.$transaction(async (tx) => {
      const book = await resolveBook(tx, bookRef);
      const price = await tx.priceBookPrice.create({ data: { bookId: book.id, ...priceColumns(input) } });
      const { consumerIds, repriced } = await pricesAdded(tx, book, price.effectiveFrom, correction);
      return { price, consumerIds, repriced };
    }, REPRICING_TX);
  } catch (err) {
    duplicateEntry(err);
  }
}

/**
 * Gives the consumer a book as its plan (null: none), with a markup in percent. The calls it
 * covers are repriced back to the end of the consumer's last finalized period: those already
 * finally invoiced stay as billed.
 */
export async function assignPlan(
  db: PrismaClient,
  consumerRef: string,
  plan: { bookRef: string | null; markupPercent: Decimal | null },
) {
  return db.$transaction(async (tx) => {
    const consumer = await resolveConsumer(tx, consumerRef);
    const book = await planBook(tx, plan.bookRef);
    await tx.consumer.update({
      where: { id: consumer.id },
      data: { planId: book?.id ?? null, planMarkupPercent: plan.markupPercent?.toFixed() ?? null },
    });
    const { repriced } = await repriceConsumers(tx, [consumer.id], await lastFinalizedEnd(tx, [consumer.id]));
    return { consumerId: consumer.id, book, markupPercent: plan.markupPercent, repriced };
  }, REPRICING_TX);
}

const PRICE_FIELDS = [
  "inputCostPerToken",
  "outputCostPerToken",
  "cachedInputCostPerToken",
  "cacheWriteCostPerToken",
  "reasoningCostPerToken",
] as const;
type PriceColumns = ReturnType<typeof priceColumns>;
const samePrices = (a: Record<(typeof PRICE_FIELDS)[number], { toFixed(): string } | string | null>, b: PriceColumns) =>
  PRICE_FIELDS.every(
    (f) =>
      (a[f] === null ? null : new Decimal(a[f]!.toString()).toFixed()) ===
      (b[f] === null ? null : new Decimal(b[f]!).toFixed()),
  );

export type ImportReport = { added: string[]; unchanged: string[]; rejected: Array<{ model: string; reason: string }> };

/**
 * Imports a catalog into a book from `effectiveFrom` on, in one transaction: an entry whose price in
 * force then is the same is left alone, any other gets a new version, and the book's consumers'
 * calls from then on are repriced once. Importing the same file twice adds nothing.
 */
export async function importPrices(
  db: PrismaClient,
  bookRef: string,
  prices: PriceInput[],
  effectiveFrom: Date,
): Promise<ImportReport & { consumerIds: string[]; repriced: number }> {
  return db.$transaction(async (tx) => {
    const book = await resolveBook(tx, bookRef);
    const report: ImportReport = { added: [], unchanged: [], rejected: [] };
    for (const p of prices) {
      const row = priceColumns({ ...p, effective_from: effectiveFrom.toISOString() });
      const inForce = await tx.priceBookPrice.findFirst({
        where: { bookId: book.id, model: row.model, effectiveFrom: { lte: effectiveFrom } },
        orderBy: { effectiveFrom: "desc" },
      });
      if (inForce && samePrices(inForce, row)) report.unchanged.push(row.model);
      else if (inForce && inForce.effectiveFrom.getTime() === effectiveFrom.getTime())
        report.rejected.push({ model: row.model, reason: "another price of this entry takes effect at the same time" });
      else {
        await tx.priceBookPrice.create({ data: { bookId: book.id, ...row } });
        report.added.push(row.model);
      }
    }
    if (report.added.length === 0) return { ...report, consumerIds: [], repriced: 0 };
    const { consumerIds, repriced } = await pricesAdded(tx, book, effectiveFrom);
    return { ...report, consumerIds, repriced };
  }, REPRICING_TX);
}

/**
 * Gives every consumer carrying the tag that has no plan of its own a book as its plan (null: none),
 * repricing each one's calls back to the end of its last finalized period.
 */
export async function assignTagPlan(
  db: PrismaClient,
  tag: string,
  plan: { bookRef: string | null; markupPercent: Decimal | null },
) {
  return db.$transaction(async (tx) => {
    const book = await planBook(tx, plan.bookRef);
    if (book)
      await tx.tagPlan.upsert({
        where: { tag },
        create: { tag, bookId: book.id, markupPercent: plan.markupPercent?.toFixed() ?? null },
        update: { bookId: book.id, markupPercent: plan.markupPercent?.toFixed() ?? null },
      });
    else await tx.tagPlan.deleteMany({ where: { tag } });
    const consumers = (
      await tx.consumer.findMany({ where: { planId: null, tags: { has: tag } }, select: { id: true } })
    ).map((c) => c.id);
    const { repriced } = await repriceConsumers(tx, consumers, await lastFinalizedEnd(tx, consumers));
    return { book, consumerIds: consumers, repriced };
  }, REPRICING_TX);
}

/**
 * Where repricing these consumers' calls may start: the end of the earliest of their last finalized
 * periods (calls a finalized invoice billed are left alone by repriceConsumers anyway; this only
 * spares it reading history).
 */
async function lastFinalizedEnd(tx: Db, consumerIds: string[]): Promise<Date> {
  if (consumerIds.length === 0) return BEGINNING_OF_TIME;
  const [row] = await tx.$queryRaw<Array<{ since: Date | null }>>`
    SELECT min(coalesce(last_end, ${BEGINNING_OF_TIME})) AS since FROM (
      SELECT (SELECT max(p.ends_at) FROM invoices i JOIN billing_periods p ON p.id = i.period_id WHERE i.consumer_id = c.id AND i.status = 'finalized') AS last_end
      FROM consumers c WHERE c.id = ANY(${consumerIds}::uuid[])) t`;
  return row?.since ?? BEGINNING_OF_TIME;
}
