// API shapes of stored rows. Prices and costs are decimal strings, never floats.
import { rateAt, type Rate } from "../domain/pricing.ts";

type ConsumerRow = {
  id: string;
  kongId: string | null;
  username: string | null;
  customId: string | null;
  externalId: string | null;
  providerName: string | null;
  tags: string[];
  tdlMatrix: unknown;
  capabilities: number[];
  maxInputTokens: number | null;
  maxOutputTokens: number | null;
  configured: boolean;
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
  };
}

/** A consumer with its metadata in the gateway plugin's field names; costs are the rate in force now. */
export function presentConsumer(c: ConsumerRow, rates: Rate[], now = new Date()) {
  const current = rateAt(rates, now);
  return {
    id: c.id,
    kong_id: c.kongId,
    username: c.username,
    custom_id: c.customId,
    configured: c.configured,
    metadata_version: c.metadataVersion,
    metadata: {
      id: c.externalId,
      provider_name: c.providerName,
      tags: c.tags,
      tdl_matrix: c.tdlMatrix,
      capabilities: c.capabilities,
      max_input_tokens: c.maxInputTokens,
      max_output_tokens: c.maxOutputTokens,
      input_cost_per_token: current?.inputCostPerToken.toFixed() ?? null,
      output_cost_per_token: current?.outputCostPerToken.toFixed() ?? null,
    },
    created_at: c.createdAt.toISOString(),
    updated_at: c.updatedAt.toISOString(),
  };
}
