// API shapes of stored rows. Prices and costs are decimal strings, never floats.
import { snapshotOf, type MetadataRow } from "../../consumers/metadata.ts";
import type { Rate } from "../../domain/pricing.ts";

type ConsumerRow = MetadataRow & {
  id: string;
  planMarkupPercent: { toFixed(): string } | null;
  kongId: string | null;
  username: string | null;
  customId: string | null;
  metadataVersion: number;
  createdAt: Date;
  updatedAt: Date;
};

export function presentRate(r: Rate) {
  return {
    id: r.id,
    effective_from: r.effectiveFrom.toISOString(),
    input_cost_per_token: r.inputCostPerToken.toFixed(),
    output_cost_per_token: r.outputCostPerToken.toFixed(),
    // null: priced as the parent type (input, or output for reasoning)
    cached_input_cost_per_token: r.cachedInputCostPerToken?.toFixed() ?? null,
    cache_write_cost_per_token: r.cacheWriteCostPerToken?.toFixed() ?? null,
    reasoning_cost_per_token: r.reasoningCostPerToken?.toFixed() ?? null,
  };
}

/** A consumer with its metadata in the gateway plugin's field names; costs are the rate in force now. */
export function presentConsumer(
  c: ConsumerRow,
  rates: Rate[],
  plan: { id: string; name: string } | null,
  now = new Date(),
) {
  const { configured, ...metadata } = snapshotOf(c, rates, now);
  return {
    id: c.id,
    kong_id: c.kongId,
    username: c.username,
    custom_id: c.customId,
    configured,
    metadata_version: c.metadataVersion,
    metadata,
    plan: plan ? { price_book: plan, markup_percent: c.planMarkupPercent?.toFixed() ?? null } : null,
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
  };
}

export function presentApiKey(k: {
  id: string;
  prefix: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}) {
  return {
    id: k.id,
    prefix: k.prefix,
    created_at: k.createdAt.toISOString(),
    last_used_at: k.lastUsedAt?.toISOString() ?? null,
    revoked_at: k.revokedAt?.toISOString() ?? null,
  };
}
