// Consumers, their metadata, rate history and keys.
import { z } from "zod";
import { Instant, Money, TdlMatrix } from "./common.ts";

/** The metadata as the gateway plugin names it; prices are the rate in force now. */
export const Metadata = z.object({
  id: z.string().nullable(),
  provider_name: z.string().nullable(),
  tags: z.array(z.string()),
  tdl_matrix: TdlMatrix,
  capabilities: z.array(z.number()),
  max_input_tokens: z.number().nullable(),
  max_output_tokens: z.number().nullable(),
  input_cost_per_token: Money.nullable(),
  output_cost_per_token: Money.nullable(),
});

export const Consumer = z
  .object({
    id: z.uuid(),
    kong_id: z.string().nullable(),
    username: z.string().nullable(),
    custom_id: z.string().nullable(),
    configured: z.boolean(),
    metadata_version: z.number(),
    metadata: Metadata,
    plan: z
      .object({ price_book: z.object({ id: z.uuid(), name: z.string() }), markup_percent: Money.nullable() })
      .nullable()
      .meta({ description: "The price book the consumer is billed by, with its markup; null: its own rates only." }),
    created_at: Instant,
    updated_at: Instant,
  })
  .meta({ id: "Consumer" });
export type Consumer = z.infer<typeof Consumer>;

export const ConsumerList = z.object({ consumers: z.array(Consumer), next_after: z.uuid().nullable() });

export const MetadataVersions = z.object({
  consumer_id: z.uuid(),
  metadata_version: z.number(),
  versions: z.array(
    z.object({
      version: z.number(),
      changed_at: Instant,
      actor: z.string(),
      source: z.string(),
      changes: z.unknown(),
      snapshot: z.unknown(),
    }),
  ),
});

/** A rate: per-token prices from a time on; null prices take their parent type's. */
export const Rate = z.object({
  id: z.uuid(),
  effective_from: Instant,
  input_cost_per_token: Money,
  output_cost_per_token: Money,
  cached_input_cost_per_token: Money.nullable(),
  cache_write_cost_per_token: Money.nullable(),
  reasoning_cost_per_token: Money.nullable(),
});
export const RateList = z.object({ consumer_id: z.uuid(), rates: z.array(Rate) });
export const CreatedRate = Rate.extend({ repriced_events: z.number(), price_adjustments: z.number() });

export const ApiKey = z.object({
  id: z.uuid(),
  prefix: z.string(),
  created_at: Instant,
  last_used_at: Instant.nullable(),
  revoked_at: Instant.nullable(),
});
export const ApiKeyList = z.object({ consumer_id: z.uuid(), api_keys: z.array(ApiKey) });
export const IssuedApiKey = z.object({
  id: z.uuid(),
  consumer_id: z.uuid(),
  prefix: z.string(),
  key: z.string().meta({ description: "The key itself, shown only in this answer." }),
  created_at: Instant,
});

/** The report of a Kong declarative config import. */
const ImportEntry = { index: z.number(), username: z.string().nullable(), custom_id: z.string().nullable() };
export const KongImportReport = z.object({
  format_version: z.string(),
  dry_run: z.boolean(),
  summary: z.object({ created: z.number(), updated: z.number(), unchanged: z.number(), rejected: z.number() }),
  created: z.array(
    z.object({
      ...ImportEntry,
      consumer_id: z.string(),
      metadata_version: z.number().nullable(),
      metadata: z.boolean(),
    }),
  ),
  updated: z.array(
    z.object({
      ...ImportEntry,
      consumer_id: z.string(),
      metadata_version: z.number().nullable(),
      changed: z.array(z.string()),
    }),
  ),
  unchanged: z.array(z.object({ ...ImportEntry, consumer_id: z.string() })),
  rejected: z.array(
    z.object({ ...ImportEntry, reasons: z.array(z.object({ field: z.string(), message: z.string() })) }),
  ),
  notes: z.array(z.string()),
});
