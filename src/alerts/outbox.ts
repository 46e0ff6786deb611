// Alerts written in the same transaction as the fact they report (an invoice finalized, a dead
// letter recorded): the fact and its alert exist together or not at all. They are queued for
// delivery by the dispatch sweep (workers/webhooks/worker.ts), which picks up undispatched alerts.
import type { Db } from "../db/client.ts";
import type { AlertBody, AlertType } from "./alert.service.ts";

export type OutboxAlert = { type: AlertType; dedupKey: string; consumerId?: string | null; data: Record<string, unknown> };

export async function addToOutbox(tx: Db, alerts: OutboxAlert[]): Promise<void> {
  if (alerts.length === 0) return;
  const timestamp = new Date().toISOString();
  await tx.alert.createMany({
    data: alerts.map((a) => ({ type: a.type, dedupKey: a.dedupKey, consumerId: a.consumerId ?? null, payload: ({ type: a.type, timestamp, data: a.data } satisfies AlertBody) as object })),
    skipDuplicates: true,
  });
}
