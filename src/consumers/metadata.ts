// A consumer's metadata as one value in the gateway plugin's field names, and the versions that
// record every change to it: who, when, through what, and field by field what changed.
import type { Db } from "../db/client.ts";
import { rateAt, type Rate } from "../domain/pricing.ts";
import { canonicalJson } from "../domain/json.ts";

export type MetadataSnapshot = {
  id: string | null;
  provider_name: string | null;
  tags: string[];
  tdl_matrix: unknown;
  capabilities: number[];
  max_input_tokens: number | null;
  max_output_tokens: number | null;
  /** Decimal strings: the rate in force at the snapshot's time. */
  input_cost_per_token: string | null;
  output_cost_per_token: string | null;
  configured: boolean;
};

export type MetadataRow = {
  externalId: string | null;
  providerName: string | null;
  tags: string[];
  tdlMatrix: unknown;
  capabilities: number[];
  maxInputTokens: number | null;
  maxOutputTokens: number | null;
  configured: boolean;
};

/** Who changed metadata and through what; recorded with every version. */
export type Actor = { actor: string; source: "api" | "import" | "rates" };

export function snapshotOf(c: MetadataRow, rates: readonly Rate[], at = new Date()): MetadataSnapshot {
  const rate = rateAt(rates, at);
  return {
    id: c.externalId,
    provider_name: c.providerName,
    tags: c.tags,
    tdl_matrix: c.tdlMatrix,
    capabilities: c.capabilities,
    max_input_tokens: c.maxInputTokens,
    max_output_tokens: c.maxOutputTokens,
    input_cost_per_token: rate?.inputCostPerToken.toFixed() ?? null,
    output_cost_per_token: rate?.outputCostPerToken.toFixed() ?? null,
    configured: c.configured,
  };
}

export type MetadataChanges = Record<string, { from: unknown; to: unknown }>;

/** Fields whose values differ; every field when there is no `before` (a creation). */
export function diffSnapshots(before: MetadataSnapshot | null, after: MetadataSnapshot): MetadataChanges {
  const changes: MetadataChanges = {};
  for (const key of Object.keys(after) as Array<keyof MetadataSnapshot>) {
    const from = before ? before[key] : null;
    if (!before || canonicalJson(from) !== canonicalJson(after[key])) changes[key] = { from, to: after[key] };
  }
  return changes;
}

/**
 * Records a new version when something changed, in the caller's transaction, and bumps the
 * consumer's version number. Returns the new version and the fields that changed, or null.
 */
export async function recordVersion(
  tx: Db,
  consumerId: string,
  before: MetadataSnapshot | null,
  after: MetadataSnapshot,
  by: Actor,
  /** Changes outside the snapshot, such as a rename: recorded in the same version. */
  identity: MetadataChanges = {},
): Promise<{ version: number; fields: string[] } | null> {
  const changes = { ...identity, ...diffSnapshots(before, after) };
  if (Object.keys(changes).length === 0) return null;
  const { metadataVersion } = await tx.consumer.update({
    where: { id: consumerId },
    data: { metadataVersion: { increment: 1 } },
    select: { metadataVersion: true },
  });
  await tx.consumerMetadataVersion.create({
    data: {
      consumerId,
      version: metadataVersion,
      actor: by.actor,
      source: by.source,
      changes: changes as object,
      snapshot: after as object,
    },
  });
  return { version: metadataVersion, fields: Object.keys(changes) };
}

export async function listVersions(db: Db, consumerId: string) {
  const rows = await db.consumerMetadataVersion.findMany({ where: { consumerId }, orderBy: { version: "asc" } });
  return rows.map((v) => ({
    version: v.version,
    changed_at: v.changedAt.toISOString(),
    actor: v.actor,
    source: v.source,
    changes: v.changes,
    snapshot: v.snapshot,
  }));
}
