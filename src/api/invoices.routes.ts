// Invoices and billing runs. The operator sees every invoice; a consumer key sees only its own.
import type { FastifyInstance } from "fastify";
import { Job, type Queue } from "bullmq";
import { z } from "zod";
import { calendarDate, safeText } from "./schemas/common.ts";
import { periodReport, toCsv } from "../billing/report.ts";
import { resolveConsumer } from "../consumers/consumer.service.ts";
import type { Config } from "../config.ts";
import type { PrismaClient } from "../db/client.ts";
import { isPeriodKey, periodOfKey } from "../domain/billing-period.ts";
import { AppError, conflict, notFound, validationFailed } from "../domain/errors.ts";
import { JOB_OPTIONS, JOBS } from "../jobs/catalog.ts";
import { withinTimeout } from "../jobs/queues.ts";
import { assertOwnConsumer, requireAdmin } from "../http/principal.ts";
import { presentInvoice } from "./invoice-presenter.ts";
import { validate } from "./validate.ts";

export type BillingApiDeps = { config: Config; db: PrismaClient; billingQueue: Queue };

const periodKey = calendarDate;
const ListQuery = z
  .object({
    consumer: safeText(200, 1).optional(),
    period: periodKey.optional(),
    status: z.enum(["draft", "finalized", "void"]).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
  })
  .strict();

const INCLUDE = { lines: { orderBy: { position: "asc" as const } }, period: true, consumer: { select: { username: true } } };

/** Redis being away is a 503, not a 500 nor a request that hangs. */
async function enqueue<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await withinTimeout(3000, "billing queue", fn);
  } catch (err) {
    throw new AppError("redis_unavailable", "the job queue (Redis) is unavailable; retry later", { cause: err, retryable: true });
  }
}

export async function invoiceRoutes(app: FastifyInstance, { config, db, billingQueue }: BillingApiDeps): Promise<void> {
  const s = config.billing;
  const periodRow = async (key: string, field: string) => {
    if (!isPeriodKey(key, s.period)) throw validationFailed(`${field}: ${key} does not start a ${s.period} period`, field);
    const row = await db.billingPeriod.findUnique({ where: { kind_key_timeZone: { kind: s.period, key, timeZone: s.timeZone } } });
    if (!row) throw notFound(`period ${key} has not been closed yet`);
    return row;
  };

  const list = async (q: z.infer<typeof ListQuery>, consumerId?: string) => {
    const period = q.period ? await periodRow(q.period, "query.period") : undefined;
    const rows = await db.invoice.findMany({
      where: { consumerId, periodId: period?.id, status: q.status },
      include: INCLUDE,
      orderBy: [{ createdAt: "desc" }, { id: "asc" }],
      take: q.limit,
    });
    return { invoices: rows.map(presentInvoice) };
  };

  app.get("/v1/invoices", async (request) => {
    const q = validate(ListQuery, request.query, "query");
    const p = request.principal!;
    if (!q.consumer) return list(q, p.kind === "consumer" ? p.consumerId : undefined);
    // a consumer key naming another consumer is refused, not answered with the caller's own data
    const named = await resolveConsumer(db, q.consumer);
    assertOwnConsumer(request, named.id, q.consumer);
    return list(q, named.id);
  });

  app.get<{ Params: { consumer: string } }>("/v1/consumers/:consumer/invoices", async (request) => {
    const q = validate(ListQuery.omit({ consumer: true }), request.query, "query");
    const c = await resolveConsumer(db, request.params.consumer);
    assertOwnConsumer(request, c.id, request.params.consumer);
    return list(q, c.id);
  });

  app.get<{ Params: { id: string } }>("/v1/invoices/:id", async (request) => {
    const id = request.params.id;
    const inv = z.string().uuid().safeParse(id).success ? await db.invoice.findUnique({ where: { id }, include: INCLUDE }) : null;
    const p = request.principal!;
    if (!inv || (p.kind === "consumer" && p.consumerId !== inv.consumerId)) throw notFound(`invoice ${id} not found`);
    return presentInvoice(inv);
  });

  app.get("/v1/billing/report", { preHandler: requireAdmin }, async (request, reply) => {
    const q = validate(z.object({ period: periodKey, format: z.enum(["json", "csv"]).optional() }).strict(), request.query, "query");
    const period = await periodRow(q.period, "query.period");
    const rows = await periodReport(db, period.id);
    const csv = q.format === "csv" || (q.format === undefined && (request.headers.accept ?? "").includes("text/csv"));
    if (csv) {
      return reply
        .type("text/csv; charset=utf-8")
        .header("content-disposition", `attachment; filename="tokenmeter-${s.period}-${period.key}.csv"`)
        .send(toCsv(rows));
    }
    return { period: period.key, period_status: period.status, time_zone: period.timeZone, starts_at: period.startsAt.toISOString(), ends_at: period.endsAt.toISOString(), invoices: rows };
  });

  app.post("/v1/billing/runs", { preHandler: requireAdmin }, async (request, reply) => {
    const body = validate(z.object({ period: periodKey }).strict(), request.body);
    if (!isPeriodKey(body.period, s.period)) throw validationFailed(`period: ${body.period} does not start a ${s.period} period`, "period");
    const p = periodOfKey(body.period, s.period, s.timeZone);
    if (p.endsAt > new Date()) throw conflict(`period: ${body.period} has not ended yet (it ends at ${p.endsAt.toISOString()})`, "period");
    const job = await enqueue(() => billingQueue.add(JOBS.closePeriod.name, { periodKey: body.period }, { ...JOB_OPTIONS, jobId: `run.${body.period}.${Date.now()}` }));
    return reply.code(202).send({ run_id: job.id, period: body.period, status_url: `/v1/billing/runs/${job.id}` });
  });

  app.get<{ Params: { id: string } }>("/v1/billing/runs/:id", { preHandler: requireAdmin }, async (request) => {
    const job = await enqueue(() => Job.fromId(billingQueue, request.params.id));
    if (!job) throw notFound(`run ${request.params.id} not found`);
    const state = await enqueue(() => job.getState());
    const progress = job.progress as { periodId?: string; consumers?: number } | number;
    const periodId = typeof progress === "object" ? progress.periodId : undefined;
    const counts = periodId
      ? await db.invoice.groupBy({ by: ["status"], where: { periodId }, _count: { _all: true } })
      : [];
    return {
      run_id: job.id,
      period: job.data.periodKey,
      state,
      consumers: typeof progress === "object" ? (progress.consumers ?? null) : null,
      invoices: Object.fromEntries(counts.map((c) => [c.status, c._count._all])),
      failed_reason: job.failedReason ?? null,
      attempts: job.attemptsMade,
    };
  });
}
