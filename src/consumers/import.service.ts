// Imports a Kong declarative config: each consumer is created, updated (only what differs) or
// rejected with its reasons, in a transaction of its own, so importing the same file twice changes
// nothing and one bad consumer does not hold back the others. A dry run rolls every one back.
import type { PrismaClient } from "../db/client.ts";
import { AppError, conflict } from "../domain/errors.ts";
import { findByKongRefs } from "./consumer.repository.ts";
import {
  createConsumerIn,
  uniqueConflict,
  updateConsumerIn,
  type ConsumerChange,
  type PriceDefaults,
} from "./consumer.service.ts";
import { readKongConfig, type ImportCandidate, type Problem } from "./kong-config.ts";
import type { Actor } from "./metadata.ts";

type Entry = { index: number; username: string | null; custom_id: string | null };
export type ImportReport = {
  format_version: string;
  dry_run: boolean;
  summary: { created: number; updated: number; unchanged: number; rejected: number };
  created: Array<Entry & { consumer_id: string; metadata_version: number | null; metadata: boolean }>;
  updated: Array<Entry & { consumer_id: string; metadata_version: number | null; changed: string[] }>;
  unchanged: Array<Entry & { consumer_id: string }>;
  rejected: Array<Entry & { reasons: Problem[] }>;
  notes: string[];
};

class DryRunRollback extends Error {
  constructor(readonly change: ConsumerChange) {
    super("dry run");
  }
}

async function applyOne(
  db: PrismaClient,
  c: ImportCandidate,
  defaults: PriceDefaults,
  by: Actor,
  dryRun: boolean,
): Promise<ConsumerChange> {
  try {
    return await db.$transaction(async (tx) => {
      const ref = { kongId: c.identity.kong_id, username: c.identity.username, customId: c.identity.custom_id };
      const existingId = (await findByKongRefs(tx, [ref]))(ref);
      const existing = existingId ? await tx.consumer.findUniqueOrThrow({ where: { id: existingId } }) : undefined;
      if (existing) assertSameIdentity(existing, c);
      const change = existing
        ? await updateConsumerIn(tx, existing, c.body, by)
        : await createConsumerIn(tx, c.body, defaults, by);
      if (dryRun) throw new DryRunRollback(change);
      return change;
    });
  } catch (err) {
    if (err instanceof DryRunRollback) return err.change;
    uniqueConflict(err);
  }
}

/**
 * A file consumer matched by one identity must not contradict the others: renaming a consumer is
 * an explicit change (PATCH), never a side effect of matching on its custom_id.
 */
function assertSameIdentity(
  existing: { username: string | null; customId: string | null; kongId: string | null },
  c: ImportCandidate,
): void {
  const pairs = [
    ["username", existing.username, c.identity.username],
    ["custom_id", existing.customId, c.identity.custom_id],
    ["id", existing.kongId, c.identity.kong_id],
  ] as const;
  const who = existing.username ?? existing.customId ?? existing.kongId;
  for (const [field, stored, given] of pairs) {
    if (stored && given && stored !== given) {
      const other = pairs.find(([f, s, g]) => f !== field && s && s === g);
      throw conflict(
        `${field}: the consumer with ${other?.[0]} ${other?.[1]} is ${field} ${stored} (${who}), not ${given}`,
        field,
      );
    }
  }
}

function problemOf(err: unknown, c: ImportCandidate): Problem {
  if (err instanceof AppError)
    return { field: `consumers.${c.index}.${err.field ?? "consumer"}`, message: err.message };
  throw err;
}

export async function importKongConfig(
  db: PrismaClient,
  text: string,
  opts: { defaults: PriceDefaults; by: Actor; dryRun: boolean },
): Promise<ImportReport> {
  const { formatVersion, candidates } = readKongConfig(text);
  const report: ImportReport = {
    format_version: formatVersion,
    dry_run: opts.dryRun,
    summary: { created: 0, updated: 0, unchanged: 0, rejected: 0 },
    created: [],
    updated: [],
    unchanged: [],
    rejected: [],
    notes: [],
  };
  for (const c of candidates) {
    const entry = { index: c.index, username: c.identity.username ?? null, custom_id: c.identity.custom_id ?? null };
    let problems = c.problems;
    let change: ConsumerChange | undefined;
    if (problems.length === 0) {
      try {
        change = await applyOne(db, c, opts.defaults, opts.by, opts.dryRun);
      } catch (err) {
        problems = [problemOf(err, c)];
      }
    }
    if (!change) report.rejected.push({ ...entry, reasons: problems });
    else if (change.created)
      report.created.push({
        ...entry,
        consumer_id: change.consumer.id,
        metadata_version: change.version,
        metadata: c.hasMetadata,
      });
    else if (change.changed.length > 0)
      report.updated.push({
        ...entry,
        consumer_id: change.consumer.id,
        metadata_version: change.version,
        changed: change.changed,
      });
    else report.unchanged.push({ ...entry, consumer_id: change.consumer.id });
  }
  report.summary = {
    created: report.created.length,
    updated: report.updated.length,
    unchanged: report.unchanged.length,
    rejected: report.rejected.length,
  };
  const credentials = candidates.reduce((n, c) => n + c.credentials, 0);
  if (credentials > 0)
    report.notes.push(`${credentials} keyauth_credentials left to Kong: tokenmeter never stores gateway keys`);
  const bare = candidates.filter((c) => !c.hasMetadata).length;
  if (bare > 0) report.notes.push(`${bare} consumer(s) without a user-metadata plugin imported with identity only`);
  return report;
}

/** Consumers whose metadata an import changed (for cache invalidation). */
export const changedConsumerIds = (r: ImportReport) => [...r.created, ...r.updated].map((e) => e.consumer_id);
