// Alerts written in the same transaction as the fact they report (an invoice finalized, a dead
// letter recorded): the fact and its alert exist together or not at all. They are queued for
// delivery by the dispatch sweep (workers/webhooks/worker.ts), which picks up undispatched alerts.
import type { Db } from "../db/client.ts";
import type { AlertBody, AlertType } from "./alert-types.ts";

export type OutboxAlert = {
  type: AlertType;
  dedupKey: string;
  consumerId?: string | null;
  data: Record<string, unknown>;
};

/** Records the alerts whose dedup keys are new; returns their ids (a known key is skipped). */
export async function addToOutbox(tx: Db, alerts: OutboxAlert[]): Promise<string[]> {
  if (alerts.length === 0) return [];
  const timestamp = new Date().toISOString();
  const created = await tx.alert.createManyAndReturn({
    data: alerts.map((a) => ({
      type: a.type,
      dedupKey: a.dedupKey,
      consumerId: a.consumerId ?? null,
      payload: { type: a.type, timestamp, data: a.data } satisfies AlertBody as object,
    })),
    skipDuplicates: true,
    select: { id: true },
  });
  return created.map((a) => a.id);
}
