// A consumer's own prices for named models: they override its plan's (a negotiated price for one
// model), and are kept as a price book only that consumer uses, so they have the same entries,
// versions, tiers and repricing as any book. The book is made on the first override; its name
// cannot be typed through the API, so it is never mistaken for a plan.
import type { Db, PrismaClient } from "../db/client.ts";
import { validationFailed } from "../domain/errors.ts";
import { DEFAULT_ENTRY } from "../domain/price-book.ts";
import { resolveConsumer } from "../consumers/consumer.service.ts";
import { addPrice, type PriceInput } from "./price-book.service.ts";
import type { Correction } from "./repricing.ts";

/** The name of a consumer's own book: outside what book names may be, so no plan can take it. */
const ownBookName = (consumerId: string) => `~consumer:${consumerId}`;

/** The consumer's own book, made when it has none yet. */
async function ownBook(db: Db, consumerId: string) {
  const found = await db.priceBook.findUnique({ where: { ownerConsumerId: consumerId } });
  if (found) return found;
  return db.priceBook.upsert({
    where: { ownerConsumerId: consumerId },
    create: {
      name: ownBookName(consumerId),
      ownerConsumerId: consumerId,
      description: "the consumer's own prices, overriding its plan",
    },
    update: {},
  });
}

/** Adds a version of the consumer's own price for a model (or pattern), repricing its calls from then on. */
export async function addOverride(db: PrismaClient, consumerRef: string, input: PriceInput, correction?: Correction) {
  if (input.model.trim() === DEFAULT_ENTRY) {
    throw validationFailed(
      "model: a consumer's own price names models; its rate (POST /v1/consumers/:consumer/rates) prices every other model",
      "model",
    );
  }
  const consumer = await resolveConsumer(db, consumerRef);
  const book = await ownBook(db, consumer.id);
  const added = await addPrice(db, book.id, input, correction);
  return { consumerId: consumer.id, ...added };
}

/** The consumer's own prices, every version. */
export async function overridesOf(db: Db, consumerRef: string) {
  const consumer = await resolveConsumer(db, consumerRef);
  const book = await db.priceBook.findUnique({ where: { ownerConsumerId: consumer.id } });
  const prices = book
    ? await db.priceBookPrice.findMany({
        where: { bookId: book.id },
        orderBy: [{ model: "asc" }, { effectiveFrom: "asc" }],
      })
    : [];
  return { consumerId: consumer.id, book, prices };
}
