// Reports: drift between our counts and the providers', lineage from an invoice line to its events
// and from an event to its price, the events the meter flagged, and a FOCUS export of spend.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Config } from "../../config.ts";
import { ANOMALIES } from "../../domain/anomalies.ts";
import { consumerRef, pageLimit, safeText, uuid } from "../../domain/field-types.ts";
import type { Reports } from "../../reports/reports.ts";
import { answers, SECURITY } from "../openapi.ts";
import { requireAdmin } from "../principal.ts";
import { rangeOf, RangeFields } from "./common.schemas.ts";
import { PeriodKey } from "./periods.ts";
import { presentFlagged } from "./reports.presenter.ts";
import * as C from "../contract/reports.ts";

const admin = { tags: ["reports"], security: SECURITY.admin };
const reader = { tags: ["reports"], security: SECURITY.reader };
const eventId = safeText(300, 1).meta({
  description: "A usage event's id (Kong's request id, or a hash of the entry).",
});

const DriftQuery = z
  .object({
    ...RangeFields,
    consumer: consumerRef.optional(),
    threshold: z.coerce.number().min(0).max(100).default(0.1).meta({
      description: "Relative drift, |counted - provider| / provider, past which an event is listed (0.1 = 10 %).",
    }),
    limit: pageLimit(1000, 100),
  })
  .strict();
const AnomalyQuery = z
  .object({
    ...RangeFields,
    anomaly: z.enum(ANOMALIES).optional(),
    consumer: consumerRef.optional(),
    after: eventId.optional(),
    limit: pageLimit(1000, 100),
  })
  .strict();
const LineParams = z.object({ id: uuid, position: z.coerce.number().int().min(1).max(1_000_000) });
const PageQuery = z
  .object({
    after: eventId.optional().meta({ description: "The last event id of the previous page." }),
    limit: pageLimit(1000, 100),
  })
  .strict();
const FocusQuery = z.object({ period: PeriodKey, consumer: consumerRef.optional() }).strict();

export async function reportRoutes(
  app: FastifyInstance,
  { config, reports }: { config: Config; reports: Reports },
): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    "/v1/reports/drift",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Counted against provider-reported tokens per consumer, model and day",
        querystring: DriftQuery,
        response: answers(200, C.DriftReport, 403, 404),
      },
    },
    async (request) => {
      const q = request.query;
      const { from, to } = rangeOf(q, config.usage.maxSpanDays);
      return {
        from: from.toISOString(),
        to: to.toISOString(),
        time_zone: config.billing.timeZone,
        ...(await reports.drift({
          from,
          to,
          consumer: q.consumer,
          threshold: q.threshold,
          limit: q.limit,
        })),
      };
    },
  );

  r.get(
    "/v1/reports/anomalies",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Events the meter flagged (a billable call with no token count, a payload not whole, ...)",
        querystring: AnomalyQuery,
        response: answers(200, C.FlaggedEvents, 403, 404),
      },
    },
    async (request) => {
      const q = request.query;
      const { from, to } = rangeOf(q, config.usage.maxSpanDays);
      const { events, next } = await reports.flagged({ ...q, from, to });
      return {
        events: events.map(presentFlagged),
        next_cursor: next,
      };
    },
  );

  r.get(
    "/v1/invoices/:id/lines/:position/events",
    {
      schema: {
        ...reader,
        summary: "The events behind one invoice line, by event id",
        params: LineParams,
        querystring: PageQuery,
        response: answers(200, C.LineEvents, 404),
      },
    },
    async (request) => {
      const { id, position } = request.params;
      return reports.lineEvents(id, position, request.query, request.principal);
    },
  );

  r.get(
    "/v1/events/:id",
    {
      schema: {
        ...reader,
        summary: "One usage event and why it cost what it cost",
        params: z.object({ id: eventId }),
        response: answers(200, C.ExplainedEvent, 404),
      },
    },
    async (request) => reports.explain(request.params.id, request.principal),
  );

  r.get(
    "/v1/reports/focus",
    {
      schema: {
        ...reader,
        summary: "Spend of a billing period as FOCUS 1.2 CSV",
        description: "One row per invoice line; corrections of earlier periods are ChargeClass Correction rows.",
        querystring: FocusQuery,
        response: answers(200, C.FocusCsv, 404),
      },
    },
    async (request, reply) => {
      const { period, csv } = await reports.focus(request.query.period, request.query.consumer, request.principal);
      return reply
        .type("text/csv; charset=utf-8")
        .header("content-disposition", `attachment; filename="tokenmeter-focus-${period.key}.csv"`)
        .send(csv);
    },
  );
}
