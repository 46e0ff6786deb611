// Delivers alerts to webhook endpoints: one job per (alert, endpoint), signed as Standard Webhooks
// describe, retried with exponential backoff until a 2xx or the last attempt. Every attempt is
// logged (the delivery log in the API); a sweep queues deliveries of alerts recorded while Redis was away.
// Each attempt resolves and checks the destination again (src/alerts/webhook-post.ts).
import { UnrecoverableError, Worker, type Job } from "bullmq";
import { createWebhookQueue, dispatchPending } from "../../src/alerts/alert.service.ts";
import { decryptSecret } from "../../src/alerts/endpoint-secret.ts";
import { signedHeaders } from "../../src/alerts/webhook-signature.ts";
import { postWebhook } from "../../src/alerts/webhook-post.ts";
import type { Config } from "../../src/config.ts";
import type { PrismaClient } from "../../src/db/client.ts";
import { redisConnection, stopper } from "../../src/jobs/queues.ts";
import { QUEUES, WEBHOOK_JOBS } from "../../src/jobs/catalog.ts";
import type { Logger } from "../../src/lib/logger.ts";

export type WebhookWorker = { stop(): Promise<void> };
type Deps = { config: Config; db: PrismaClient; logger: Logger; schedule?: boolean };

const DISPATCH_EVERY_MS = 30_000;
async function deliver(deps: Deps, job: Job<{ deliveryId: string }>): Promise<void> {
  const { db, config } = deps;
  const d = await db.webhookDelivery.findUnique({
    where: { id: job.data.deliveryId },
    include: { alert: true, endpoint: true },
  });
  if (d?.status !== "pending") return;
  if (!d.endpoint.enabled) {
    await db.webhookDelivery.update({
      where: { id: d.id },
      data: { status: "failed", lastError: "endpoint disabled", nextRetryAt: null },
    });
    return;
  }
  if (!config.webhooks.secretKey)
    throw new UnrecoverableError("WEBHOOK_SECRET_KEY is not set: endpoint secrets cannot be read");
  const secret = decryptSecret(
    { current: config.webhooks.secretKey, previous: config.webhooks.previousKeys },
    d.endpoint.secretEncrypted,
  );
  const body = JSON.stringify(d.alert.payload);
  const headers = {
    "content-type": "application/json",
    "user-agent": "tokenmeter-webhooks/1",
    ...signedHeaders(secret, d.alert.id, body),
  };
  const attempt = job.attemptsMade + 1;
  const { refused, ...result } = await postWebhook({
    url: d.endpoint.url,
    body,
    headers,
    timeoutMs: config.webhooks.timeoutMs,
    allowed: config.webhooks.allowedNetworks,
  });
  if (refused) deps.logger.warn({ endpointId: d.endpoint.id, reason: refused }, "webhook destination refused");
  const delivered = result.error === null;
  const last = attempt >= config.webhooks.attempts;
  const nextRetryAt = delivered || last ? null : new Date(Date.now() + config.webhooks.backoffMs * 2 ** (attempt - 1));
  await db.$transaction([
    db.webhookAttempt.create({ data: { deliveryId: d.id, attempt, ...result } }),
    db.webhookDelivery.update({
      where: { id: d.id },
      data: {
        attempts: attempt,
        lastStatusCode: result.statusCode,
        lastError: result.error,
        status: delivered ? "delivered" : last ? "failed" : "pending",
        nextRetryAt,
        deliveredAt: delivered ? new Date() : null,
      },
    }),
  ]);
  if (!delivered) throw new Error(result.error!);
}

export async function startWebhookWorker(deps: Deps): Promise<WebhookWorker> {
  const { config, logger } = deps;
  const queueConnection = redisConnection(config, "worker");
  const workerConnection = redisConnection(config, "worker");
  const queue = createWebhookQueue(config, queueConnection);
  const alerts = { db: deps.db, webhookQueue: queue, config, logger };
  const worker = new Worker(
    QUEUES.webhooks,
    async (job: Job) => {
      if (job.name === WEBHOOK_JOBS.dispatch) return dispatchPending(alerts);
      if (job.name === WEBHOOK_JOBS.deliver) return deliver(deps, job as Job<{ deliveryId: string }>);
      throw new UnrecoverableError(`unknown webhook job ${job.name}`);
    },
    { connection: workerConnection, prefix: config.redis.prefix, concurrency: 4 },
  );
  worker.on("failed", (job, err) =>
    logger.warn({ jobId: job?.id, attempts: job?.attemptsMade, err: err.message }, "webhook delivery attempt failed"),
  );
  worker.on("error", (err) => logger.error({ err }, "webhook worker error"));
  queue.on("error", (err) => logger.error({ err }, "webhook queue error"));
  if (deps.schedule !== false) {
    void queue
      .upsertJobScheduler("webhook-dispatch", { every: DISPATCH_EVERY_MS }, { name: WEBHOOK_JOBS.dispatch, data: {} })
      .catch((err: unknown) => logger.error({ err }, "could not schedule the alert dispatch sweep"));
  }
  return { stop: stopper(worker, queue, [queueConnection, workerConnection]) };
}
