// What the dashboard needs beyond the other routes: who the key belongs to, a month of a
// consumer's TDL matrix by day and slot, and every consumer's spend in the current period.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Config } from "../../config.ts";
import { resolveConsumer } from "../../consumers/consumer.service.ts";
import type { PrismaClient } from "../../db/client.ts";
import { localDateOf, periodContaining, periodJson } from "../../domain/billing-period.ts";
import { Decimal } from "../../domain/money.ts";
import type { TdlMatrix } from "../../domain/tdl.ts";
import { spendByConsumer, tdlCalendar } from "../../usage/calendar.service.ts";
import { answers, SECURITY } from "../openapi.ts";
import { assertOwnConsumer, requireAdmin } from "../principal.ts";
import { ConsumerParams } from "./common.schemas.ts";
import * as C from "../contract/usage.ts";

const MonthQuery = z
  .object({
    month: z
      .string()
      .regex(/^(19[7-9]\d|[2-9]\d{3})-(0[1-9]|1[0-2])$/, "must be a month YYYY-MM")
      .optional()
      .meta({ description: "Default: this month in the billing time zone." }),
  })
  .strict();

export async function dashboardRoutes(
  app: FastifyInstance,
  { config, db }: { config: Config; db: PrismaClient },
): Promise<void> {
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
      if (p.kind === "admin") return { kind: "admin", billing };
      const c = await db.consumer.findUniqueOrThrow({
        where: { id: p.consumerId },
        select: { id: true, username: true },
      });
      return { kind: "consumer", consumer_id: c.id, username: c.username, billing };
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
      const c = await resolveConsumer(db, request.params.consumer);
      assertOwnConsumer(request, c.id, request.params.consumer);
      const month = request.query.month ?? localDateOf(new Date(), timeZone).slice(0, 7);
      return {
        consumer_id: c.id,
        month,
        time_zone: timeZone,
        days: await tdlCalendar(db, c.id, month, c.tdlMatrix as TdlMatrix),
      };
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
      const current = periodContaining(new Date(), period, timeZone);
      const rows = await spendByConsumer(db, current.key, localDateOf(current.endsAt, timeZone));
      return {
        period: periodJson(current),
        currency,
        consumers: rows.map((s) => ({ ...s, cost: new Decimal(s.cost).toFixed() })),
      };
    },
  );
}
