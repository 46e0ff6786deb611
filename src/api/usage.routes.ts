// Usage API: a consumer's usage over a time range grouped by day, model or route; its observed TDL
// matrix for a local day; and usage that could not be attributed to any consumer.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { instantString } from "./schemas/common.ts";
import { resolveConsumer } from "../consumers/consumer.service.ts";
import { validationFailed } from "../domain/errors.ts";
import { dayOf } from "./day-query.ts";
import { observedMatrix, usageOf } from "../usage/usage.service.ts";
import type { ApiDeps } from "./consumers.routes.ts";
import { validate } from "./validate.ts";
import { assertOwnConsumer, requireAdmin } from "../http/principal.ts";

const DAY_MS = 86_400_000;

const UsageQuery = z
  .object({
    from: instantString.optional(),
    to: instantString.optional(),
    group_by: z.enum(["day", "model", "route"]).default("day"),
  })
  .strict();


/** [from, to), defaulting to the last 30 days. */
function rangeOf(q: z.infer<typeof UsageQuery>): { from: Date; to: Date } {
  const to = q.to ? new Date(q.to) : new Date();
  const from = q.from ? new Date(q.from) : new Date(to.getTime() - 30 * DAY_MS);
  if (from >= to) throw validationFailed("from: must be before to", "from");
  return { from, to };
}

export async function usageRoutes(app: FastifyInstance, { config, db }: ApiDeps): Promise<void> {
  const timeZone = config.billing.timeZone;

  app.get<{ Params: { consumer: string } }>("/v1/consumers/:consumer/usage", async (request) => {
    const q = validate(UsageQuery, request.query, "query");
    const { from, to } = rangeOf(q);
    const c = await resolveConsumer(db, request.params.consumer);
    assertOwnConsumer(request, c.id, request.params.consumer);
    const usage = await usageOf(db, c.id, from, to, q.group_by);
    return { consumer_id: c.id, from: from.toISOString(), to: to.toISOString(), group_by: q.group_by, time_zone: timeZone, ...usage };
  });

  app.get("/v1/usage/unattributed", { preHandler: requireAdmin }, async (request) => {
    const q = validate(UsageQuery, request.query, "query");
    const { from, to } = rangeOf(q);
    const usage = await usageOf(db, null, from, to, q.group_by);
    return { consumer_id: null, from: from.toISOString(), to: to.toISOString(), group_by: q.group_by, time_zone: timeZone, ...usage };
  });

  app.get<{ Params: { consumer: string } }>("/v1/consumers/:consumer/tdl-matrix", async (request) => {
    const date = dayOf(request.query, timeZone);
    const c = await resolveConsumer(db, request.params.consumer);
    assertOwnConsumer(request, c.id, request.params.consumer);
    return { consumer_id: c.id, date, time_zone: timeZone, tdl_matrix: await observedMatrix(db, c.id, date) };
  });
}
