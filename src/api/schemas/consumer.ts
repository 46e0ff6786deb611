// Request bodies of the consumer API. Field names follow the gateway plugin's metadata.
import { z } from "zod";

const price = z.union([z.string(), z.number()]);
const tokenLimit = z.number().int().positive().nullable();

export const MetadataSchema = z
  .object({
    id: z.string().min(1).max(200),
    provider_name: z.string().max(200),
    tags: z.array(z.string().max(200)).max(100),
    tdl_matrix: z.unknown(),
    capabilities: z.array(z.union([z.literal(0), z.literal(1)])).length(5),
    max_input_tokens: tokenLimit,
    max_output_tokens: tokenLimit,
    input_cost_per_token: price,
    output_cost_per_token: price,
  })
  .partial()
  .strict();
export type MetadataInput = z.infer<typeof MetadataSchema>;

/**
 * A consumer's identity and metadata, for creating (all optional but one identity) and for
 * changing (only the fields given). `rates_effective_from` is when the given prices take effect:
 * on creation, by default, the beginning of time (they price every event, however old); on a
 * change, by default, now.
 */
export const ConsumerBodySchema = z
  .object({
    username: z.string().min(1).max(200).optional(),
    custom_id: z.string().min(1).max(200).optional(),
    kong_id: z.string().uuid().optional(),
    metadata: MetadataSchema.optional(),
    rates_effective_from: z.string().datetime({ offset: true }).optional(),
  })
  .strict();
export type ConsumerBody = z.infer<typeof ConsumerBodySchema>;

export const CreateRateSchema = z
  .object({
    effective_from: z.string().datetime({ offset: true }),
    input_cost_per_token: price,
    output_cost_per_token: price,
  })
  .strict();
