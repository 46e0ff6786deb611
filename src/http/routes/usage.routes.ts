// Usage: a consumer's usage over a time range grouped by day, model or route; its observed TDL
// matrix for a local day; and usage that could not be attributed to any consumer (operator).
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Config } from "../../config.ts";
import { resolveConsumer } from "../../consumers/consumer.service.ts";
import type { PrismaClient } from "../../db/client.ts";
import { observedCells, observedMatrix, usageOf } from "../../usage/usage.service.ts";
import type { Redis } from "ioredis";
import { budgetStatus } from "../../budgets/budget-status.ts";
import { HoldLedger } from "../../budgets/hold-ledger.ts";
import { creditSummary } from "../../credits/credit-hold.ts";
import { queryFlag } from "../../domain/field-types.ts";
import { answers, SECURITY } from "../openapi.ts";
import { assertOwnConsumer, requireAdmin } from "../principal.ts";
import { ConsumerParams, DayQuery, dayOrToday, rangeOf, RangeFields } from "./common.schemas.ts";
import * as C from "../contract/usage.ts";

const MatrixQuery = DayQuery.extend({
  cells: queryFlag
    .optional()
    .meta({ description: "true: also list the day's cells with their calls, tokens by type and cost." }),
}).strict();

const UsageQuery = z.object({ ...RangeFields, group_by: z.enum(["day", "model", "route"]).default("day") }).strict();

const reader = { tags: ["usage"], security: SECURITY.reader };

export async function usageRoutes(
  app: FastifyInstance,
  { config, db, redis }: { config: Config; db: PrismaClient; redis: Redis },
): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const ledger = new HoldLedger(redis, config.redis.prefix);
  const timeZone = config.billing.timeZone;

  r.get(
    "/v1/consumers/:consumer/usage",
    {
      schema: {
        ...reader,
        summary: "A consumer's usage: tokens, calls and cost",
        params: ConsumerParams,
        querystring: UsageQuery,
        response: answers(200, C.ConsumerUsage, 404),
      },
    },
    async (request) => {
      const q = request.query;
      const { from, to } = rangeOf(q, config.usage.maxSpanDays);
      const c = await resolveConsumer(db, request.params.consumer);
      assertOwnConsumer(request, c.id, request.params.consumer);
      const usage = await usageOf(db, c.id, from, to, q.group_by);
      // the budget's current period, whatever range was asked for (null: no budget)
      const budget = await budgetStatus(db, ledger, config, { consumerId: c.id });
      // the prepaid balance now (null: never granted credit)
      const credit = await creditSummary(db, c.id, config.billing.currency);
      return {
        consumer_id: c.id,
        from: from.toISOString(),
        to: to.toISOString(),
        group_by: q.group_by,
        time_zone: timeZone,
        ...usage,
        budget,
        credit,
      };
    },
  );

  r.get(
    "/v1/usage/unattributed",
    {
      onRequest: requireAdmin,
      schema: {
        tags: ["usage"],
        security: SECURITY.admin,
        summary: "Usage no consumer could be found for",
        querystring: UsageQuery,
        response: answers(200, C.UnattributedUsage, 403),
      },
    },
    async (request) => {
      const q = request.query;
      const { from, to } = rangeOf(q, config.usage.maxSpanDays);
      const usage = await usageOf(db, null, from, to, q.group_by);
      return {
        consumer_id: null,
        from: from.toISOString(),
        to: to.toISOString(),
        group_by: q.group_by,
        time_zone: timeZone,
        ...usage,
      };
    },
  );

  r.get(
    "/v1/consumers/:consumer/tdl-matrix",
    {
      schema: {
        ...reader,
        summary: "A consumer's observed TDL matrix for a local day",
        params: ConsumerParams,
        querystring: MatrixQuery,
        response: answers(200, C.ObservedMatrix, 404),
      },
    },
    async (request) => {
      const date = dayOrToday(request.query.date, timeZone);
      const c = await resolveConsumer(db, request.params.consumer);
      assertOwnConsumer(request, c.id, request.params.consumer);
      const matrix = { consumer_id: c.id, date, time_zone: timeZone, tdl_matrix: await observedMatrix(db, c.id, date) };
      return request.query.cells ? { ...matrix, cells: await observedCells(db, c.id, date) } : matrix;
    },
  );
}
