// What the dashboard needs beyond the other routes: who the key belongs to, a month of a
// consumer's TDL matrix by day and slot, and every consumer's spend in the current period.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Config } from "../../config.ts";
import type { Consumers } from "../../consumers/consumers.ts";
import { localDateOf, periodJson } from "../../domain/billing-period.ts";
import { Decimal } from "../../domain/money.ts";
import type { Usage } from "../../usage/usage.ts";
import * as C from "../contract/usage.ts";
import { answers, SECURITY } from "../openapi.ts";
import { requireAdmin } from "../principal.ts";
import { ConsumerParams } from "./common.schemas.ts";

const MonthQuery = z
  .object({
    month: z
      .string()
      .regex(/^(19[7-9]\d|[2-9]\d{3})-(0[1-9]|1[0-2])$/, "must be a month YYYY-MM")
      .optional()
      .meta({ description: "Default: this month in the billing time zone." }),
  })
  .strict();

type Deps = { config: Config; consumers: Consumers; usage: Usage };

export async function dashboardRoutes(app: FastifyInstance, { config, consumers, usage }: Deps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { timeZone, currency, period } = config.billing;

  r.get(
    "/v1/me",
    {
      schema: {
        tags: ["dashboard"],
        security: SECURITY.reader,
        summary: "Who this key is, and the billing settings",
        response: answers(200, C.Me),
      },
    },
    async (request) => {
      const p = request.principal!;
      const billing = { time_zone: timeZone, currency, period };
      const tdl = { level_bounds: [...config.tdl.levelBounds] };
      if (p.kind === "admin") return { kind: "admin" as const, billing, tdl };
      const c = await consumers.nameOf(p.consumerId);
      return { kind: "consumer" as const, consumer_id: c.id, username: c.username, billing, tdl };
    },
  );

  r.get(
    "/v1/consumers/:consumer/tdl-calendar",
    {
      schema: {
        tags: ["usage"],
        security: SECURITY.reader,
        summary: "A month of the TDL matrix: calls per local day and slot, and slots past a limit",
        params: ConsumerParams,
        querystring: MonthQuery,
        response: answers(200, C.TdlCalendar, 404),
      },
    },
    async (request) => {
      const month = request.query.month ?? localDateOf(new Date(), timeZone).slice(0, 7);
      const c = await usage.calendar(request.params.consumer, month, request.principal);
      return { consumer_id: c.consumerId, month, time_zone: timeZone, days: c.days };
    },
  );

  r.get(
    "/v1/spend",
    {
      onRequest: requireAdmin,
      schema: {
        tags: ["dashboard"],
        security: SECURITY.admin,
        summary: "Every consumer's billable spend in the current billing period",
        response: answers(200, C.Spend, 403),
      },
    },
    async () => {
      const s = await usage.spend();
      return {
        period: periodJson(s.period),
        currency,
        consumers: s.consumers.map((c) => ({ ...c, cost: new Decimal(c.cost).toFixed() })),
      };
    },
  );
}
