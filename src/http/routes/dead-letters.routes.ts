// Dead letters for the operator (admin key): list, inspect, replay after the cause is fixed.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { DeadLetters } from "../../dead-letters/dead-letters.ts";
import { presentDeadLetter } from "./dead-letters.presenter.ts";
import { instant, pageLimit, safeText, uuid } from "../../domain/field-types.ts";
import { answers, SECURITY } from "../openapi.ts";
import { requireAdmin } from "../principal.ts";
import { IdParams } from "./common.schemas.ts";
import * as C from "../contract/operations.ts";

const Filter = {
  stage: z.enum(["ingest", "meter"]).optional(),
  reason: safeText(200, 1).optional(),
  from: instant.optional(),
  to: instant.optional(),
};
const ListQuery = z
  .object({
    ...Filter,
    limit: pageLimit(500, 50),
    after: z
      .string()
      .regex(/^[^|]+\|[0-9a-f-]{36}$/, "must be the next_after value of the previous page")
      .transform((s) => ({ failedAt: new Date(s.split("|")[0]!), id: s.split("|")[1]! }))
      .refine((a) => !Number.isNaN(a.failedAt.getTime()), "must be the next_after value of the previous page")
      .optional()
      .meta({ description: "next_after of the previous page." }),
  })
  .strict();
const ReplayBody = z
  .object({
    ids: z.array(uuid).min(1).max(1000).optional(),
    ...Filter,
    limit: z.number().int().min(1).max(1000).default(100),
  })
  .strict()
  .refine(
    (b) => b.ids || b.stage || b.reason || b.from || b.to,
    "name the dead letters: ids, or at least one of stage, reason, from, to",
  );

const admin = { tags: ["dead-letters"], security: SECURITY.admin };

export async function deadLetterRoutes(app: FastifyInstance, { deadLetters }: { deadLetters: DeadLetters }) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    "/v1/dead-letters",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "List dead letters, newest first",
        querystring: ListQuery,
        response: answers(200, C.DeadLetterList, 403),
      },
    },
    async (request) => {
      const { limit, after, ...filter } = request.query;
      const rows = await deadLetters.list(filter, { limit, after });
      const last = rows.length === limit ? rows[rows.length - 1] : undefined;
      return {
        dead_letters: rows.map(presentDeadLetter),
        next_after: last ? `${last.failedAt.toISOString()}|${last.id}` : null,
      };
    },
  );

  r.get(
    "/v1/dead-letters/:id",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Show a dead letter with its payload",
        params: IdParams,
        response: answers(200, C.DeadLetter, 403, 404),
      },
    },
    async (request) => {
      const { id } = request.params;
      const letter = await deadLetters.show(id);
      return presentDeadLetter(letter);
    },
  );

  r.post(
    "/v1/dead-letters/replay",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Replay dead letters after their cause is fixed",
        description: "Each named dead letter goes through ingest or the meter again; each outcome is reported.",
        body: ReplayBody,
        response: answers(200, C.ReplayReport, 403, 503),
      },
    },
    async (request) => {
      const { limit, ...filter } = request.body;
      const outcomes = await deadLetters.replay(filter, limit);
      return { resubmitted: outcomes.filter((o) => o.outcome === "resubmitted").length, outcomes };
    },
  );
}
