// The invoice worker: processes billing jobs (and, on each tick, the credit sweep) and keeps the
// schedules. Redis being away never stops metering; when it returns, the next tick closes and
// finalizes whatever fell due meanwhile.
import { Worker, type Queue } from "bullmq";
import { createWebhookQueue } from "../../src/alerts/alert.service.ts";
import type { Config } from "../../src/config.ts";
import type { PrismaClient } from "../../src/db/client.ts";
import { JOB_IDS, JOBS, PERIOD_CLOSE_PATTERN, QUEUES } from "../../src/jobs/catalog.ts";
import { createBillingQueue, redisConnection, stopper } from "../../src/jobs/queues.ts";
import type { Logger } from "../../src/lib/logger.ts";
import type { Metrics } from "../../src/ops/metrics.ts";
import { billingProcessor } from "./handlers.ts";

export type InvoiceWorker = { stop(): Promise<void> };

export async function startInvoiceWorker(deps: {
  config: Config;
  db: PrismaClient;
  logger: Logger;
  metrics?: Metrics;
  schedule?: boolean;
  webhookQueue?: Queue;
}): Promise<InvoiceWorker> {
  const { config, db, logger } = deps;
  const queueConnection = redisConnection(config, "worker");
  const workerConnection = redisConnection(config, "worker");
  const queue = createBillingQueue(config, queueConnection);
  const alerts = { db, webhookQueue: deps.webhookQueue ?? createWebhookQueue(config, queueConnection), config, logger };
  const worker = new Worker(
    QUEUES.billing,
    billingProcessor({ db, queue, settings: config.billing, alerts, creditExpiringDays: config.credits.expiringDays }),
    {
      connection: workerConnection,
      prefix: config.redis.prefix,
      concurrency: 2,
    },
  );
  worker.on("completed", (job) => deps.metrics?.billingJobs.inc({ job: job.name, status: "completed" }));
  worker.on("failed", (job, err) => {
    deps.metrics?.billingJobs.inc({ job: job?.name ?? "unknown", status: "failed" });
    logger.warn({ err, job: job?.name, jobId: job?.id, attempts: job?.attemptsMade }, "billing job failed");
  });
  worker.on("error", (err) => {
    deps.metrics?.dependencyErrors.inc({ dependency: "redis" });
    logger.error({ err }, "billing worker error");
  });
  queue.on("error", (err) => logger.error({ err }, "billing queue error"));

  if (deps.schedule !== false) {
    // Stable ids: a redeploy updates the schedules instead of adding more. Scheduling waits for
    // Redis in the background so that metering starts regardless.
    void (async () => {
      await queue.upsertJobScheduler(
        "billing-period-close",
        { pattern: PERIOD_CLOSE_PATTERN[config.billing.period], tz: config.billing.timeZone },
        { name: JOBS.tick.name, data: {} },
      );
      await queue.upsertJobScheduler(
        "billing-tick",
        { every: config.billing.tickMs },
        { name: JOBS.tick.name, data: {} },
      );
      await queue.add(JOBS.tick.name, {}, { jobId: JOB_IDS.startTick(Date.now()) });
    })().catch((err: unknown) => logger.error({ err }, "could not schedule billing jobs"));
  }
  return { stop: stopper(worker, queue, [queueConnection, workerConnection]) };
}
