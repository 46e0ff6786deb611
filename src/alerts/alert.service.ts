// Alerts: recorded once in PostgreSQL (by dedup key), then one delivery per subscribed webhook
// endpoint, each a BullMQ job that retries with backoff (workers/webhooks/worker.ts). Recording
// comes first, so an alert raised while Redis is away is queued by the next dispatch sweep.
import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { Config } from "../config.ts";
import type { PrismaClient } from "../db/client.ts";
import type { Logger } from "../lib/logger.ts";
import { addToOutbox, type OutboxAlert } from "./outbox.ts";
import { JOB_IDS, QUEUES, WEBHOOK_JOBS } from "../jobs/catalog.ts";
import { queueCall } from "../jobs/queues.ts";
import { AppError } from "../domain/errors.ts";

/** Stored in Redis with every job: renaming it strands the jobs already queued. */

export function createWebhookQueue(config: Config, connection: Redis): Queue {
  return new Queue(QUEUES.webhooks, { connection, prefix: config.redis.prefix });
}

export type AlertDeps = { db: PrismaClient; webhookQueue: Queue; config: Config; logger?: Logger };

export type NewAlert = OutboxAlert;

/** Records the alert unless its dedup key is known, then queues its deliveries. Returns its id when new. */
async function recordAlert(deps: AlertDeps, alert: NewAlert): Promise<string | null> {
  const [id] = await addToOutbox(deps.db, [alert]);
  if (!id) return null;
  await dispatchAlert(deps, id);
  return id;
}

/** Creates the alert's deliveries to enabled endpoints that take its type and queues them. */
async function dispatchAlert(deps: AlertDeps, alertId: string): Promise<void> {
  const { db } = deps;
  await db.$executeRaw`
    INSERT INTO webhook_deliveries (alert_id, endpoint_id)
    SELECT a.id, e.id FROM alerts a JOIN webhook_endpoints e ON e.enabled AND (cardinality(e.event_types) = 0 OR a.type = ANY(e.event_types))
    WHERE a.id = ${alertId}::uuid
    ON CONFLICT (alert_id, endpoint_id) DO NOTHING`;
  const pending = await db.webhookDelivery.findMany({ where: { alertId, status: "pending" }, select: { id: true } });
  try {
    // the delivery id is the job id: queuing twice (a sweep racing a first dispatch) queues once
    await deps.webhookQueue.addBulk(
      pending.map((d) => ({
        name: WEBHOOK_JOBS.deliver,
        data: { deliveryId: d.id },
        opts: deliveryJobOptions(deps.config, d.id),
      })),
    );
    await db.alert.update({ where: { id: alertId }, data: { dispatchedAt: new Date() } });
  } catch (err) {
    deps.logger?.warn({ err, alertId }, "alert recorded, its deliveries are queued by the next sweep");
  }
}

function deliveryJobOptions(config: Config, deliveryId: string) {
  return {
    jobId: JOB_IDS.webhookDelivery(deliveryId),
    attempts: config.webhooks.attempts,
    backoff: { type: "exponential", delay: config.webhooks.backoffMs },
    removeOnComplete: { age: 7 * 24 * 3600 },
    removeOnFail: { age: 30 * 24 * 3600 },
  };
}

/**
 * A test alert for one endpoint, delivered like any other (signed, retried, in its delivery log).
 * It is recorded as dispatched, so the sweep never sends it to other endpoints.
 */
export async function sendTestAlert(
  deps: AlertDeps,
  endpointId: string,
): Promise<{ alertId: string; deliveryId: string }> {
  const { alertId, deliveryId } = await deps.db.$transaction(async (tx) => {
    const [id] = await addToOutbox(tx, [
      {
        type: "webhook.test",
        dedupKey: `webhook.test:${randomUUID()}`,
        data: { endpoint_id: endpointId, message: "A test event sent from tokenmeter on an operator's request." },
      },
    ]);
    await tx.alert.update({ where: { id: id! }, data: { dispatchedAt: new Date() } });
    const delivery = await tx.webhookDelivery.create({ data: { alertId: id!, endpointId }, select: { id: true } });
    return { alertId: id!, deliveryId: delivery.id };
  });
  try {
    await queueCall(3000, "webhook queue", () =>
      deps.webhookQueue.add(WEBHOOK_JOBS.deliver, { deliveryId }, deliveryJobOptions(deps.config, deliveryId)),
    );
  } catch (err) {
    await deps.db.webhookDelivery.update({
      where: { id: deliveryId },
      data: { status: "failed", lastError: "not sent: the job queue (Redis) was unavailable" },
    });
    throw new AppError("redis_unavailable", "the job queue (Redis) is unavailable; retry later", { cause: err });
  }
  return { alertId, deliveryId };
}

/** Queues the deliveries of alerts recorded while Redis was away. */
export async function dispatchPending(deps: AlertDeps): Promise<number> {
  const waiting = await deps.db.alert.findMany({
    where: { dispatchedAt: null },
    orderBy: { createdAt: "asc" },
    take: 500,
    select: { id: true },
  });
  for (const a of waiting) await dispatchAlert(deps, a.id);
  return waiting.length;
}

/** Records an alert without ever failing the caller's own work (authorize, metering, billing). */
export function raiseAlert(deps: AlertDeps, alert: NewAlert): Promise<boolean> {
  return recordAlert(deps, alert).then(
    () => true,
    (err: unknown) => {
      deps.logger?.error({ err, type: alert.type, dedupKey: alert.dedupKey }, "alert could not be recorded");
      return false;
    },
  );
}

/**
 * Dedup keys already recorded by this process: spares PostgreSQL a refused insert for alerts checked on every fold or
 * sweep.
 */
const recordedHere = new Set<string>();

/** Raises an alert unless this process recorded its dedup key already (the database keeps it once either way). */
export async function raiseOnce(deps: AlertDeps, alert: NewAlert): Promise<void> {
  if (recordedHere.has(alert.dedupKey)) return;
  if (!(await raiseAlert(deps, alert))) return; // not recorded: the next check tries again
  if (recordedHere.size > 50_000) recordedHere.clear();
  recordedHere.add(alert.dedupKey);
}
