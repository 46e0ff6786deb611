// One thin handler per billing job: validate the payload, call the billing service, report progress.
import { makeMonthsAround } from "../../src/usage/event-partitions.ts";
import { UnrecoverableError, type Job, type Queue } from "bullmq";
import type { z } from "zod";
import { draftInvoice, finalizePeriod } from "../../src/billing/invoice.service.ts";
import {
  consumersToInvoice,
  duePeriods,
  finalizeAfterOf,
  periodsToFinalize,
  recordPeriod,
  releaseForeignStamps,
  type BillingSettings,
} from "../../src/billing/period.service.ts";
import type { PrismaClient } from "../../src/db/client.ts";
import { isPeriodKey, periodOfKey } from "../../src/domain/billing-period.ts";
import { JOB_IDS, JOB_OPTIONS, JOBS } from "../../src/jobs/catalog.ts";
import type { AlertDeps } from "../../src/alerts/alert.service.ts";
import { sweepCredits } from "../../src/credits/credit-sweep.ts";

export type BillingDeps = {
  db: PrismaClient;
  queue: Queue;
  settings: BillingSettings;
  alerts?: AlertDeps;
  creditExpiringDays?: number;
};

const asOfDate = (asOf?: string) => (asOf ? new Date(asOf) : new Date());

function payload<T extends keyof typeof JOBS>(kind: T, job: Job): z.infer<(typeof JOBS)[T]["payload"]> {
  const parsed = (JOBS[kind].payload as z.ZodType).safeParse(job.data);
  if (!parsed.success) throw new UnrecoverableError(`invalid ${job.name} payload: ${parsed.error.issues[0]?.message}`);
  return parsed.data as z.infer<(typeof JOBS)[T]["payload"]>;
}

async function tick(job: Job, d: BillingDeps) {
  const { asOf } = payload("tick", job);
  const now = asOfDate(asOf);
  // calls stamped before the period settings changed bill as unstamped calls
  const released = await releaseForeignStamps(d.db, d.settings);
  // usage_events' months around now exist before their calls arrive
  const monthsMade = await makeMonthsAround(d.db, now);
  const due = await duePeriods(d.db, d.settings, now);
  // deterministic ids: a repeated tick does not close a period twice
  for (const p of due)
    await d.queue.add(
      JOBS.closePeriod.name,
      { periodKey: p.key, asOf },
      { ...JOB_OPTIONS, jobId: JOB_IDS.closePeriod(p.kind, p.key) },
    );
  const finalize = await periodsToFinalize(d.db, d.settings, now);
  for (const p of finalize)
    await d.queue.add(
      JOBS.finalizePeriod.name,
      { periodId: p.id, asOf },
      { ...JOB_OPTIONS, jobId: JOB_IDS.finalizePeriod(p.id) },
    );
  const credits = await sweepCredits(d.db, d.alerts, now, d.creditExpiringDays ?? 7);
  return {
    closing: due.map((p) => p.key),
    finalizing: finalize.map((p) => p.key),
    released_calls: released,
    months_made: monthsMade,
    ...credits,
  };
}

async function closePeriod(job: Job, d: BillingDeps) {
  const { periodKey, asOf } = payload("closePeriod", job);
  const s = d.settings;
  if (!isPeriodKey(periodKey, s.period))
    throw new UnrecoverableError(`${periodKey} does not start a ${s.period} period`);
  const period = periodOfKey(periodKey, s.period, s.timeZone);
  const now = asOfDate(asOf);
  if (period.endsAt > now) throw new UnrecoverableError(`period ${periodKey} has not ended yet`);
  const row = await recordPeriod(d.db, period, finalizeAfterOf(period.endsAt, now, s), now);
  const consumers = await consumersToInvoice(d.db, row);
  await d.queue.addBulk(
    consumers.map((consumerId) => ({
      name: JOBS.draftInvoice.name,
      data: { consumerId, periodId: row.id, asOf },
      opts: { ...JOB_OPTIONS, jobId: JOB_IDS.draftInvoice(row.id, consumerId, job.id) },
    })),
  );
  await job.updateProgress({ period: periodKey, periodId: row.id, consumers: consumers.length });
  return { periodId: row.id, consumers: consumers.length };
}

async function draft(job: Job, d: BillingDeps) {
  const { consumerId, periodId, asOf } = payload("draftInvoice", job);
  return draftInvoice(d.db, { consumerId, periodId, settings: d.settings, now: asOfDate(asOf), finalize: false });
}

async function finalize(job: Job, d: BillingDeps) {
  const { periodId, asOf } = payload("finalizePeriod", job);
  const row = await d.db.billingPeriod.findUniqueOrThrow({ where: { id: periodId } });
  if (row.status === "finalized") return { finalized: 0 };
  const consumers = await consumersToInvoice(d.db, row);
  const heldUnpriced: Array<{ consumer_id: string; calls: number; models: string[] }> = [];
  const finalized = await finalizePeriod(
    d.db,
    periodId,
    consumers,
    d.settings,
    asOfDate(asOf),
    (done, total) => job.updateProgress({ period: row.key, done, total }),
    (consumerId, u) => heldUnpriced.push({ consumer_id: consumerId, ...u }),
  );
  return { finalized, held_unpriced: heldUnpriced };
}

export function billingProcessor(d: BillingDeps) {
  return async (job: Job) => {
    switch (job.name) {
      case JOBS.tick.name:
        return tick(job, d);
      case JOBS.closePeriod.name:
        return closePeriod(job, d);
      case JOBS.draftInvoice.name:
        return draft(job, d);
      case JOBS.finalizePeriod.name:
        return finalize(job, d);
      default:
        throw new UnrecoverableError(`unknown job ${job.name}`);
    }
  };
}
