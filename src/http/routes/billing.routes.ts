// Billing runs and the period report (operator). A run is a job on the billing queue (Redis).
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { Job, type Queue } from "bullmq";
import { z } from "zod";
import { invoiceCountsByStatus } from "../../billing/invoice.repository.ts";
import { periodReport, REPORT_COLUMNS } from "../../billing/report.ts";
import { toCsv } from "../../lib/csv.ts";
import type { Config } from "../../config.ts";
import type { PrismaClient } from "../../db/client.ts";
import { isPeriodKey, periodOfKey } from "../../domain/billing-period.ts";
import { AppError, conflict, notFound, validationFailed } from "../../domain/errors.ts";
import { safeText } from "../../domain/field-types.ts";
import { JOB_OPTIONS, JOBS } from "../../jobs/catalog.ts";
import { queueCall } from "../../jobs/queues.ts";
import { answers, SECURITY } from "../openapi.ts";
import { requireAdmin } from "../principal.ts";
import { periodOf, PeriodKey } from "./periods.ts";
import * as C from "../contract/invoices.ts";

/** Redis being away is a 503, not a 500 nor a request that hangs. */
async function enqueue<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await queueCall(3000, "billing queue", fn);
  } catch (err) {
    throw new AppError("redis_unavailable", "the job queue (Redis) is unavailable; retry later", { cause: err });
  }
}

const ReportQuery = z
  .object({
    period: PeriodKey,
    format: z
      .enum(["json", "csv"])
      .optional()
      .meta({ description: "csv, or json; by default from the Accept header." }),
  })
  .strict();
const RunBody = z.object({ period: PeriodKey }).strict();
const RunParams = z.object({ id: safeText(200, 1) });

const admin = { tags: ["invoices"], security: SECURITY.admin };

export async function billingRoutes(
  app: FastifyInstance,
  { config, db, billingQueue }: { config: Config; db: PrismaClient; billingQueue: Queue },
): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const s = config.billing;

  r.get(
    "/v1/billing/report",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Every invoice of a period (JSON or CSV)",
        querystring: ReportQuery,
        response: answers(200, C.PeriodReport, 403, 404),
      },
    },
    async (request, reply) => {
      const q = request.query;
      const period = await periodOf(db, s, q.period, "query.period");
      const rows = await periodReport(db, period.id);
      const csv = q.format === "csv" || (q.format === undefined && (request.headers.accept ?? "").includes("text/csv"));
      if (csv) {
        return reply
          .type("text/csv; charset=utf-8")
          .header("content-disposition", `attachment; filename="tokenmeter-${s.period}-${period.key}.csv"`)
          .send(toCsv(rows, REPORT_COLUMNS));
      }
      return {
        period: period.key,
        period_status: period.status,
        time_zone: period.timeZone,
        starts_at: period.startsAt.toISOString(),
        ends_at: period.endsAt.toISOString(),
        invoices: rows,
      };
    },
  );

  r.post(
    "/v1/billing/runs",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Start a billing run for an ended period",
        body: RunBody,
        response: answers(202, C.RunStarted, 403, 409, 503),
      },
    },
    async (request, reply) => {
      const { period } = request.body;
      if (!isPeriodKey(period, s.period))
        throw validationFailed(`period: ${period} does not start a ${s.period} period`, "period");
      const p = periodOfKey(period, s.period, s.timeZone);
      if (p.endsAt > new Date())
        throw conflict(`period: ${period} has not ended yet (it ends at ${p.endsAt.toISOString()})`, "period");
      const job = await enqueue(() =>
        billingQueue.add(
          JOBS.closePeriod.name,
          { periodKey: period },
          { ...JOB_OPTIONS, jobId: `run.${period}.${Date.now()}` },
        ),
      );
      return reply.code(202).send({ run_id: job.id, period, status_url: `/v1/billing/runs/${job.id}` });
    },
  );

  r.get(
    "/v1/billing/runs/:id",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "A billing run's state",
        params: RunParams,
        response: answers(200, C.BillingRun, 403, 404, 503),
      },
    },
    async (request) => {
      const job = await enqueue(() => Job.fromId(billingQueue, request.params.id));
      if (!job) throw notFound(`run ${request.params.id} not found`);
      const state = await enqueue(() => job.getState());
      const progress = job.progress as { periodId?: string; consumers?: number } | number;
      const periodId = typeof progress === "object" ? progress.periodId : undefined;
      return {
        run_id: job.id,
        period: job.data.periodKey,
        state,
        consumers: typeof progress === "object" ? (progress.consumers ?? null) : null,
        invoices: periodId ? await invoiceCountsByStatus(db, periodId) : {},
        failed_reason: job.failedReason ?? null,
        attempts: job.attemptsMade,
      };
    },
  );
}
