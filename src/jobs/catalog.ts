// Every billing job: its name, payload schema (checked again when the job is taken) and retry policy.
import { z } from "zod";

// the time a run acts as of; now by default (tests set it)
const asOf = z.string().datetime({ offset: true }).optional();

/** Queue names, stored in Redis with every job: renaming one strands the jobs already queued. */
export const QUEUES = { billing: "billing", webhooks: "webhooks" } as const;

/** The webhook queue's jobs: one delivery of one alert to one endpoint, and the sweep that queues deliveries. */
export const WEBHOOK_JOBS = { deliver: "deliver-webhook", dispatch: "dispatch-alerts" } as const;

/** The billing queue's jobs. */
export const JOBS = {
  /** Closes every ended period not closed yet and finalizes those past their grace: catches up after outages. */
  tick: { name: "billing-tick", payload: z.object({ asOf }) },
  /** Records one period as closed and fans out one draft job per consumer to bill. */
  closePeriod: { name: "close-period", payload: z.object({ periodKey: z.string(), asOf }) },
  draftInvoice: {
    name: "draft-invoice",
    payload: z.object({ consumerId: z.string().uuid(), periodId: z.string().uuid(), asOf }),
  },
  finalizePeriod: { name: "finalize-period", payload: z.object({ periodId: z.string().uuid(), asOf }) },
} as const;

/**
 * Job ids of every queue. An id makes adding idempotent: the same id is queued once, so each says
 * what may be repeated and what must not.
 */
export const JOB_IDS = {
  /** A tick at start-up: one per process start. */
  startTick: (now: number) => `tick.start.${now}`,
  /** A period is closed once, however many ticks see it due. */
  closePeriod: (kind: string, key: string) => `close.${kind}.${key}`,
  finalizePeriod: (periodId: string) => `finalize.${periodId}`,
  /** Per billing run: a retried run adds nothing twice, a new run drafts again (idempotently). */
  draftInvoice: (periodId: string, consumerId: string, runJobId: string | undefined) =>
    `draft.${periodId}.${consumerId}.${runJobId}`,
  /** An operator's run: each request is a run of its own. */
  billingRun: (periodKey: string, now: number) => `run.${periodKey}.${now}`,
  /** The webhook queue: a delivery is queued once, even when a sweep races its first dispatch. */
  webhookDelivery: (deliveryId: string) => deliveryId,
} as const;

export const JOB_OPTIONS = {
  attempts: 6,
  backoff: { type: "exponential", delay: 2000 },
  removeOnComplete: { age: 30 * 24 * 3600 },
  removeOnFail: { age: 90 * 24 * 3600 },
} as const;

/** Cron patterns of the period close, evaluated in the billing time zone. */
export const PERIOD_CLOSE_PATTERN = { monthly: "0 0 1 * *", weekly: "0 0 * * 1", daily: "0 0 * * *" } as const;
