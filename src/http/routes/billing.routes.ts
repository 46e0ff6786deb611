// Billing runs and the period report (operator). A run is a job on the billing queue (Redis).
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { BillingRuns } from "../../billing/billing-runs.ts";
import type { Invoices } from "../../billing/invoices.ts";
import { REPORT_COLUMNS } from "../../billing/report.ts";
import type { Config } from "../../config.ts";
import { safeText } from "../../domain/field-types.ts";
import { toCsv } from "../../lib/csv.ts";
import * as C from "../contract/invoices.ts";
import { answers, SECURITY } from "../openapi.ts";
import { requireAdmin } from "../principal.ts";
import { PeriodKey } from "./periods.ts";

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

type Deps = { config: Config; invoices: Invoices; runs: BillingRuns };

export async function billingRoutes(app: FastifyInstance, { config, invoices, runs }: Deps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

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
      const { period, rows } = await invoices.report(q.period);
      const csv = q.format === "csv" || (q.format === undefined && (request.headers.accept ?? "").includes("text/csv"));
      if (csv) {
        return reply
          .type("text/csv; charset=utf-8")
          .header("content-disposition", `attachment; filename="tokenmeter-${config.billing.period}-${period.key}.csv"`)
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
      const { runId } = await runs.start(period);
      return reply.code(202).send({ run_id: runId, period, status_url: `/v1/billing/runs/${runId}` });
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
      const run = await runs.state(request.params.id);
      return {
        run_id: run.runId,
        period: run.period,
        state: run.state,
        consumers: run.consumers,
        invoices: run.invoices,
        failed_reason: run.failedReason,
        attempts: run.attempts,
      };
    },
  );
}
