// Every billing job: its name, payload schema (checked again when the job is taken) and retry policy.
import { z } from "zod";

const asOf = z.string().datetime({ offset: true }).optional(); // the time a run acts as of; now by default (tests set it)

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

export const JOB_OPTIONS = {
  attempts: 6,
  backoff: { type: "exponential", delay: 2000 },
  removeOnComplete: { age: 30 * 24 * 3600 },
  removeOnFail: { age: 90 * 24 * 3600 },
} as const;

/** Cron patterns of the period close, evaluated in the billing time zone. */
export const PERIOD_CLOSE_PATTERN = { monthly: "0 0 1 * *", weekly: "0 0 * * 1", daily: "0 0 * * *" } as const;
