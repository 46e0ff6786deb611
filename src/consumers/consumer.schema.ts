// What a consumer is made of when it is created or changed, through the API or an import. Field
// names follow the gateway plugin's metadata; prices arrive as exact Decimals.
import { z } from "zod";
import { instantString, markupPercent, price, safeText, tdlMatrix, tokenLimit } from "../domain/field-types.ts";

const PER_TYPE_PRICES = new Set([
  "cached_input_cost_per_token",
  "cache_write_cost_per_token",
  "reasoning_cost_per_token",
]);

export const MetadataSchema = z
  .strictObject(
    {
      id: safeText(200, 1).meta({ description: "The id the gateway plugin hands upstream (X-Consumer-ID)." }),
      provider_name: safeText(200),
      tags: z.array(safeText(200)).max(100),
      tdl_matrix: tdlMatrix,
      capabilities: z
        .array(z.union([z.literal(0), z.literal(1)]))
        .length(5)
        .meta({ description: "Five flags (0 or 1): which capabilities the consumer may use." }),
      max_input_tokens: tokenLimit.nullable(),
      max_output_tokens: tokenLimit.nullable(),
      input_cost_per_token: price,
      output_cost_per_token: price,
    },
    {
      error: (issue) =>
        issue.code === "unrecognized_keys" && issue.keys.some((k: string) => PER_TYPE_PRICES.has(k))
          ? "the metadata carries only the gateway plugin's two prices; set a price per token type on a rate (POST /v1/consumers/:consumer/rates)"
          : undefined,
    },
  )
  .partial();
export type MetadataInput = z.infer<typeof MetadataSchema>;

/**
 * A consumer's identity and metadata, for creating (all optional but one identity) and for
 * changing (only the fields given). `rates_effective_from` is when the given prices take effect:
 * on creation, by default, the beginning of time (they price every event, however old); on a
 * change, by default, now.
 */
export const ConsumerBodySchema = z
  .object({
    username: safeText(200, 1).optional(),
    custom_id: safeText(200, 1).optional(),
    kong_id: z.uuid({ message: "must be a UUID" }).optional(),
    metadata: MetadataSchema.optional(),
    rates_effective_from: instantString.optional(),
  })
  .strict();
export type ConsumerBody = z.infer<typeof ConsumerBodySchema>;

/** A new consumer may start on a plan: the price book it is billed by, with a markup. */
export const NewConsumerSchema = ConsumerBodySchema.extend({
  plan: z
    .object({
      price_book: safeText(100, 1).meta({ description: "The book's name or id." }),
      markup_percent: markupPercent.optional(),
    })
    .strict()
    .optional()
    .meta({
      description: "Bill the consumer by a price book from the start (PUT /v1/consumers/:consumer/plan later).",
    }),
}).strict();
export type NewConsumer = z.infer<typeof NewConsumerSchema>;
