// Request bodies of the consumer API. Field names follow the gateway plugin's metadata.
import { z } from "zod";
import { instantString, safeText, tokenLimit } from "./common.ts";

/** Checked by parsePrice (src/domain/money.ts), which sees JSON numbers as written. */
const price = z.unknown();
const requiredPrice = z.unknown().refine((v) => v !== undefined, "Required");

export const MetadataSchema = z
  .object({
    id: safeText(200, 1),
    provider_name: safeText(200),
    tags: z.array(safeText(200)).max(100),
    tdl_matrix: z.unknown(),
    capabilities: z.array(z.union([z.literal(0), z.literal(1)])).length(5),
    max_input_tokens: tokenLimit.nullable(),
    max_output_tokens: tokenLimit.nullable(),
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
    username: safeText(200, 1).optional(),
    custom_id: safeText(200, 1).optional(),
    kong_id: z.string().uuid().optional(),
    metadata: MetadataSchema.optional(),
    rates_effective_from: instantString.optional(),
  })
  .strict();
export type ConsumerBody = z.infer<typeof ConsumerBodySchema>;

export const CreateRateSchema = z
  .object({
    effective_from: instantString,
    input_cost_per_token: requiredPrice,
    output_cost_per_token: requiredPrice,
  })
  .strict();
