// Usage: a consumer's usage over a time range grouped by day, model or route; its observed TDL
// matrix for a local day; and usage that could not be attributed to any consumer (operator).
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Config } from "../../config.ts";
import { queryFlag } from "../../domain/field-types.ts";
import type { Usage } from "../../usage/usage.ts";
import * as C from "../contract/usage.ts";
import { answers, SECURITY } from "../openapi.ts";
import { requireAdmin } from "../principal.ts";
import { ConsumerParams, DayQuery, dayOrToday, RangeFields, rangeOf } from "./common.schemas.ts";

const MatrixQuery = DayQuery.extend({
  cells: queryFlag
    .optional()
    .meta({ description: "true: also list the day's cells with their calls, tokens by type and cost." }),
}).strict();

const UsageQuery = z.object({ ...RangeFields, group_by: z.enum(["day", "model", "route"]).default("day") }).strict();

const reader = { tags: ["usage"], security: SECURITY.reader };

export async function usageRoutes(app: FastifyInstance, { config, usage }: { config: Config; usage: Usage }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const timeZone = config.billing.timeZone;
  const rangeAsked = (q: z.infer<typeof UsageQuery>) => ({
    ...rangeOf(q, config.usage.maxSpanDays),
    groupBy: q.group_by,
  });

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
      const range = rangeAsked(request.query);
      const u = await usage.ofConsumer(request.params.consumer, range, request.principal);
      return {
        consumer_id: u.consumerId,
        from: range.from.toISOString(),
        to: range.to.toISOString(),
        group_by: range.groupBy,
        time_zone: timeZone,
        ...u.usage,
        budget: u.budget,
        credit: u.credit,
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
      const range = rangeAsked(request.query);
      return {
        consumer_id: null,
        from: range.from.toISOString(),
        to: range.to.toISOString(),
        group_by: range.groupBy,
        time_zone: timeZone,
        ...(await usage.unattributed(range)),
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
      const cells = request.query.cells ?? false;
      const m = await usage.matrix(request.params.consumer, date, cells, request.principal);
      return {
        consumer_id: m.consumerId,
        date,
        time_zone: timeZone,
        tdl_matrix: m.matrix,
        ...(m.cells ? { cells: m.cells } : {}),
      };
    },
  );
}
