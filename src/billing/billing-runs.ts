// Billing runs an operator starts for an ended period: a job on the billing queue (Redis), and
// its state. Redis being away is a 503, never a 500 nor a request that hangs.
import { Job, type Queue } from "bullmq";
import type { Config } from "../config.ts";
import { isPeriodKey, periodOfKey } from "../domain/billing-period.ts";
import { AppError, conflict, notFound, validationFailed } from "../domain/errors.ts";
import { JOB_IDS, JOB_OPTIONS, JOBS } from "../jobs/catalog.ts";
import { queueCall } from "../jobs/queues.ts";
import type { Invoices } from "./invoices.ts";

const QUEUE_TIMEOUT_MS = 3000;

async function onQueue<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await queueCall(QUEUE_TIMEOUT_MS, "billing queue", fn);
  } catch (err) {
    throw new AppError("redis_unavailable", "the job queue (Redis) is unavailable; retry later", { cause: err });
  }
}

export class BillingRuns {
  constructor(
    private readonly queue: Queue,
    private readonly config: Config,
    private readonly invoices: Invoices,
  ) {}

  async start(periodKey: string): Promise<{ runId: string }> {
    const s = this.config.billing;
    if (!isPeriodKey(periodKey, s.period))
      throw validationFailed(`period: ${periodKey} does not start a ${s.period} period`, "period");
    const p = periodOfKey(periodKey, s.period, s.timeZone);
    if (p.endsAt > new Date())
      throw conflict(`period: ${periodKey} has not ended yet (it ends at ${p.endsAt.toISOString()})`, "period");
    const job = await onQueue(() =>
      this.queue.add(
        JOBS.closePeriod.name,
        { periodKey },
        { ...JOB_OPTIONS, jobId: JOB_IDS.billingRun(periodKey, Date.now()) },
      ),
    );
    return { runId: job.id! };
  }

  async state(runId: string) {
    const job = await onQueue(() => Job.fromId(this.queue, runId));
    if (!job) throw notFound(`run ${runId} not found`);
    const state = await onQueue(() => job.getState());
    const progress = job.progress as { periodId?: string; consumers?: number } | number;
    const periodId = typeof progress === "object" ? progress.periodId : undefined;
    return {
      runId: job.id!,
      period: (job.data as { periodKey: string }).periodKey,
      state,
      consumers: typeof progress === "object" ? (progress.consumers ?? null) : null,
      invoices: periodId ? await this.invoices.countsByStatus(periodId) : {},
      failedReason: job.failedReason ?? null,
      attempts: job.attemptsMade,
    };
  }
}
