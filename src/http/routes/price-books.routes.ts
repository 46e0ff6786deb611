// Price books (operator): create one with its prices, read them, add a price version to an entry,
// give a consumer a book as its plan with a markup. Prices per model and token type; an entry is a
// model name, a pattern with `*`, or `*` for every model the book does not name.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Prices } from "../../price-books/prices.ts";
import { ENTRY_NAME } from "../../domain/price-book.ts";
import { instantString, markupPercent, price, safeText } from "../../domain/field-types.ts";
import { CATALOG_FORMATS } from "../../catalog/catalog.ts";
import { answers, SECURITY } from "../openapi.ts";
import { requireAdmin } from "../principal.ts";
import { actorOf, ConsumerParams, correctionField } from "./common.schemas.ts";
import { presentBook, presentPrice } from "./prices.presenter.ts";
import * as C from "../contract/prices.ts";

const entryName = safeText(200, 1)
  .regex(ENTRY_NAME, "must be a model name, a pattern with * (gpt-4o-mini*), or * alone, without spaces")
  .meta({
    description:
      "A model as providers report it (case-insensitive), a pattern with `*`, or `*`: the book's default entry.",
  });

const tierPrices = {
  input_cost_per_token: price,
  output_cost_per_token: price,
  cached_input_cost_per_token: price.optional(),
  cache_write_cost_per_token: price.optional(),
  reasoning_cost_per_token: price.optional(),
};
const tierList = z
  .array(
    z
      .object({
        above: z
          .int()
          .min(1)
          .max(Number.MAX_SAFE_INTEGER)
          .meta({ description: "Tokens of a type in the period above which this tier's prices apply." }),
        ...tierPrices,
      })
      .strict(),
  )
  .min(1)
  .max(20)
  .superRefine((tiers, ctx) => {
    tiers.forEach((t, i) => {
      if (i > 0 && t.above <= tiers[i - 1]!.above)
        ctx.addIssue({ code: "custom", message: "must be larger than the tier before", path: [i, "above"] });
    });
  });
const tiering = z
  .discriminatedUnion("mode", [
    z.object({ mode: z.literal("graduated"), tiers: tierList }).strict(),
    z.object({ mode: z.literal("volume"), tiers: tierList }).strict(),
    z.object({ mode: z.literal("package"), package_size: z.int().min(1).max(1_000_000_000_000) }).strict(),
  ])
  .meta({
    description:
      "Rates a billing period's quantities (each token type by its own): graduated (tokens above each tier's `above` at its prices), volume (every token at the tier the quantity reaches), package (quantity rounded up to whole packages at the base prices). The entry's own prices are the first tier.",
  });

const PriceSchema = z
  .object({
    model: entryName,
    effective_from: instantString
      .optional()
      .meta({ description: "When this price takes effect; from the beginning of time by default." }),
    input_cost_per_token: price,
    output_cost_per_token: price,
    cached_input_cost_per_token: price.optional().meta({ description: "Unset: the input price." }),
    cache_write_cost_per_token: price.optional().meta({ description: "Unset: the input price." }),
    reasoning_cost_per_token: price.optional().meta({ description: "Unset: the output price." }),
    request_fee: price
      .optional()
      .meta({ description: "A fee per billable call beside its tokens (not tiered); unset: none." }),
    tiering: tiering.optional(),
    correction: correctionField(
      "Send to reprice calls a finalized invoice billed: the difference is billed (or credited) as price correction lines on each consumer's next invoice. Without it a price reaching into a finalized period is refused with 409.",
    ),
  })
  .strict();

const planAmounts = {
  fee_per_period: price.nullable().optional().meta({
    description: "Billed once per billing period on each invoice of a consumer on this plan; null removes it.",
  }),
  minimum_per_period: price.nullable().optional().meta({
    description:
      "Minimum usage charge per billing period: an invoice whose usage falls short gets a top-up line; null removes it.",
  }),
};

const BookSchema = z
  .object({
    name: safeText(100, 1).regex(
      /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
      "must start with a letter or digit and hold only letters, digits, '.', '_' and '-'",
    ),
    description: safeText(500).optional(),
    prices: z.array(PriceSchema).max(5_000).optional(),
    ...planAmounts,
  })
  .strict();

const BookChangeSchema = z.object({ description: safeText(500).optional(), ...planAmounts }).strict();

const PlanSchema = z
  .object({
    price_book: safeText(100, 1).nullable().meta({ description: "The book's name or id; null removes the plan." }),
    markup_percent: markupPercent.optional(),
  })
  .strict();

const ImportSchema = z
  .object({
    format: z.enum([...CATALOG_FORMATS, "shipped"]).meta({
      description:
        "tokenmeter: our catalog format (src/catalog/list-prices.json); litellm: LiteLLM's model_prices_and_context_window.json; shipped: the list prices shipped with tokenmeter (no catalog).",
    }),
    effective_from: instantString
      .optional()
      .meta({ description: "When the imported prices take effect; now by default (history keeps its prices)." }),
    catalog: z
      .record(z.string(), z.unknown())
      .optional()
      .meta({ description: "The file's content, for the tokenmeter and litellm formats." }),
  })
  .strict();

/** A correction as the repricing records it: the reason given and who gave it. */
const correctionBy = (request: FastifyRequest, c: { reason: string } | undefined) =>
  c ? { reason: c.reason, actor: actorOf(request, "rates").actor } : undefined;

const TagParams = z.object({
  tag: safeText(200, 1).meta({
    description: "A consumer tag (metadata tags): the plan of every consumer carrying it that has none of its own.",
  }),
});
const BookParams = z.object({ book: safeText(100, 1) });
const admin = { tags: ["prices"], security: SECURITY.admin };

export async function priceBookRoutes(app: FastifyInstance, { prices }: { prices: Prices }): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    "/v1/price-books",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Create a price book with its prices",
        body: BookSchema,
        response: answers(201, C.PriceBook, 403, 409),
      },
    },
    async (request, reply) => reply.code(201).send(presentBook(await prices.createBook(request.body))),
  );

  r.patch(
    "/v1/price-books/:book",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Change a book's description, fee and minimum per period",
        params: BookParams,
        body: BookChangeSchema,
        response: answers(200, C.PriceBook, 403, 404),
      },
    },
    async (request) => presentBook(await prices.changeBook(request.params.book, request.body)),
  );

  r.get(
    "/v1/price-books",
    {
      onRequest: requireAdmin,
      schema: { ...admin, summary: "Price books", response: answers(200, C.PriceBookList, 403) },
    },
    async () => ({
      // a consumer's own prices are shown with the consumer (/v1/consumers/:consumer/prices), not as books
      price_books: (await prices.books()).map((b) => presentBook(b)),
    }),
  );

  r.get(
    "/v1/price-books/:book",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "A price book with every price version (also its export format)",
        params: BookParams,
        response: answers(200, C.PriceBook, 403, 404),
      },
    },
    async (request) => {
      return presentBook(await prices.book(request.params.book));
    },
  );

  r.post(
    "/v1/price-books/:book/prices",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Add a price to an entry from a given time on; reprices the calls it covers",
        params: BookParams,
        body: PriceSchema,
        response: answers(201, C.CreatedPrice, 403, 404, 409),
      },
    },
    async (request, reply) => {
      const { correction, ...price } = request.body;
      const added = await prices.addPrice(request.params.book, price, correctionBy(request, correction));
      const { price: row, repriced } = added;
      return reply.code(201).send({ ...presentPrice(row), repriced_events: repriced });
    },
  );

  r.post(
    "/v1/price-books/:book/import",
    {
      onRequest: requireAdmin,
      bodyLimit: 32 * 1024 * 1024, // LiteLLM's whole map
      schema: {
        ...admin,
        summary: "Import a price catalog into a book (ours, LiteLLM's, or the shipped list prices)",
        params: BookParams,
        body: ImportSchema,
        response: answers(200, C.CatalogImport, 403, 404, 409),
      },
    },
    async (request) => {
      const { format, catalog, effective_from } = request.body;
      const at = effective_from ? new Date(effective_from) : new Date();
      const report = await prices.importCatalog(request.params.book, format, catalog, at);
      return {
        effective_from: at.toISOString(),
        added: report.added,
        unchanged: report.unchanged,
        rejected: report.rejected,
        repriced_events: report.repriced,
      };
    },
  );

  r.get(
    "/v1/consumers/:consumer/prices",
    {
      onRequest: requireAdmin,
      schema: {
        tags: ["consumers"],
        security: SECURITY.admin,
        summary: "A consumer's own prices for named models (overriding its plan), every version",
        params: ConsumerParams,
        response: answers(200, C.ConsumerPrices, 403, 404),
      },
    },
    async (request) => {
      const o = await prices.overridesOf(request.params.consumer);
      return { consumer_id: o.consumerId, book_id: o.book?.id ?? null, prices: o.prices.map(presentPrice) };
    },
  );

  r.post(
    "/v1/consumers/:consumer/prices",
    {
      onRequest: requireAdmin,
      schema: {
        tags: ["consumers"],
        security: SECURITY.admin,
        summary: "Give a consumer its own price for a model (overrides its plan's); reprices its calls from then on",
        params: ConsumerParams,
        body: PriceSchema,
        response: answers(201, C.CreatedPrice, 403, 404, 409),
      },
    },
    async (request, reply) => {
      const { correction, ...price } = request.body;
      const added = await prices.addOverride(request.params.consumer, price, correctionBy(request, correction));
      const { price: row, repriced } = added;
      return reply.code(201).send({ ...presentPrice(row), repriced_events: repriced });
    },
  );

  r.put(
    "/v1/tags/:tag/plan",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Bill every consumer carrying a tag, and no plan of its own, by a price book",
        params: TagParams,
        body: PlanSchema,
        response: answers(200, C.TagPlanSet, 403, 404),
      },
    },
    async (request) => {
      const { price_book, markup_percent } = request.body;
      const r = await prices.assignTagPlan(request.params.tag, {
        bookRef: price_book,
        markupPercent: markup_percent ?? null,
      });
      return {
        tag: request.params.tag,
        price_book: r.book ? { id: r.book.id, name: r.book.name } : null,
        markup_percent: markup_percent?.toFixed() ?? null,
        consumers: r.consumerIds.length,
        repriced_events: r.repriced,
      };
    },
  );

  r.get(
    "/v1/tags/:tag/plan",
    {
      onRequest: requireAdmin,
      schema: { ...admin, summary: "A tag's plan", params: TagParams, response: answers(200, C.TagPlan, 403, 404) },
    },
    async (request) => {
      const p = await prices.tagPlan(request.params.tag);
      return {
        tag: p.tag,
        price_book: { id: p.book.id, name: p.book.name },
        markup_percent: p.markupPercent?.toFixed() ?? null,
      };
    },
  );

  r.put(
    "/v1/consumers/:consumer/plan",
    {
      onRequest: requireAdmin,
      schema: {
        tags: ["consumers"],
        security: SECURITY.admin,
        summary: "Bill a consumer by a price book (its plan), with a markup",
        params: ConsumerParams,
        body: PlanSchema,
        response: answers(200, C.ConsumerPlan, 403, 404),
      },
    },
    async (request) => {
      const { price_book, markup_percent } = request.body;
      const choice = { bookRef: price_book, markupPercent: markup_percent ?? null };
      const plan = await prices.assignPlan(request.params.consumer, choice);
      return {
        consumer_id: plan.consumerId,
        price_book: plan.book ? { id: plan.book.id, name: plan.book.name } : null,
        markup_percent: plan.markupPercent?.toFixed() ?? null,
        repriced_events: plan.repriced,
      };
    },
  );
}
