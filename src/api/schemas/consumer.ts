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

export const CreateConsumerSchema = z
  .object({
    username: z.string().min(1).max(200).optional(),
    custom_id: z.string().min(1).max(200).optional(),
    kong_id: z.string().uuid().optional(),
    metadata: MetadataSchema.optional(),
    /** When the first rate takes effect; by default it prices every event, however old. */
    rates_effective_from: z.string().datetime({ offset: true }).optional(),
  })
  .strict();
export type CreateConsumerInput = z.infer<typeof CreateConsumerSchema>;

export const UpdateConsumerSchema = z
  .object({
    username: z.string().min(1).max(200).optional(),
    custom_id: z.string().min(1).max(200).optional(),
    kong_id: z.string().uuid().optional(),
    metadata: MetadataSchema.optional(),
    /** When changed costs take effect; now by default. */
    rates_effective_from: z.string().datetime({ offset: true }).optional(),
  })
  .strict();
export type UpdateConsumerInput = z.infer<typeof UpdateConsumerSchema>;

export const CreateRateSchema = z
  .object({
    effective_from: z.string().datetime({ offset: true }),
    input_cost_per_token: price,
    output_cost_per_token: price,
  })
  .strict();
