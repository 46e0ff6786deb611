// Price books, their prices, plans and catalog imports.
import { z } from "zod";
import { Instant, Money } from "./common.ts";
import { Rate } from "./consumers.ts";

const TierPrices = {
  input_cost_per_token: Money,
  output_cost_per_token: Money,
  cached_input_cost_per_token: Money.nullable(),
  cache_write_cost_per_token: Money.nullable(),
  reasoning_cost_per_token: Money.nullable(),
};
const Tiering = z.union([
  z.object({
    mode: z.enum(["graduated", "volume"]),
    tiers: z.array(z.object({ above: z.number(), ...TierPrices })),
  }),
  z.object({ mode: z.literal("package"), package_size: z.number() }),
]);

/** One price version of a book's entry (a model, a pattern, or `*`). */
export const Price = Rate.extend({ model: z.string(), request_fee: Money.nullable(), tiering: Tiering.nullable() });
export const CreatedPrice = Price.extend({ repriced_events: z.number() });

export const PriceBook = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string().nullable(),
    version: z.number(),
    fee_per_period: Money.nullable(),
    minimum_per_period: Money.nullable(),
    prices: z.array(Price).optional().meta({ description: "Every price version; in the answer for one book." }),
  })
  .meta({ id: "PriceBook" });
export type PriceBook = z.infer<typeof PriceBook>;
export const PriceBookList = z.object({ price_books: z.array(PriceBook) });

export const CatalogImport = z.object({
  effective_from: Instant,
  added: z.array(z.string()).meta({ description: "Entries given a new price." }),
  unchanged: z.array(z.string()).meta({ description: "Entries whose price was already in force." }),
  rejected: z.array(z.object({ model: z.string(), reason: z.string() })),
  repriced_events: z.number(),
});

export const ConsumerPrices = z.object({ consumer_id: z.uuid(), book_id: z.uuid().nullable(), prices: z.array(Price) });

const BookRef = z.object({ id: z.uuid(), name: z.string() });
export const TagPlan = z.object({ tag: z.string(), price_book: BookRef, markup_percent: Money.nullable() });
export const TagPlanSet = z.object({
  tag: z.string(),
  price_book: BookRef.nullable(),
  markup_percent: Money.nullable(),
  consumers: z.number(),
  repriced_events: z.number(),
});
export const ConsumerPlan = z.object({
  consumer_id: z.uuid(),
  price_book: BookRef.nullable(),
  markup_percent: Money.nullable(),
  repriced_events: z.number(),
});
