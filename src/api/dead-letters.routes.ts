// Dead letters for the operator (admin key): list, inspect, replay after the cause is fixed.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { Config } from "../config.ts";
import type { PrismaClient } from "../db/client.ts";
import { findDeadLetter, listDeadLetters } from "../dead-letters/dead-letter.repository.ts";
import { presentDeadLetter, replayDeadLetters } from "../dead-letters/replay.service.ts";
import { notFound } from "../domain/errors.ts";
import { requireAdmin } from "../http/principal.ts";
import type { UsageProducer } from "../kafka/producer.ts";
import type { Metrics } from "../ops/metrics.ts";
import { instant } from "./schemas/common.ts";
import { validate } from "./validate.ts";

const Filter = {
  stage: z.enum(["ingest", "meter"]).optional(),
  reason: z.string().min(1).max(200).optional(),
  from: instant.optional(),
  to: instant.optional(),
};
const ListQuery = z.object({
  ...Filter,
  limit: z.coerce.number().int().min(1).max(500).default(50),
  after: z
    .string()
    .regex(/^[^|]+\|[0-9a-f-]{36}$/, "must be the next_after value of the previous page")
    .transform((s) => ({ failedAt: new Date(s.split("|")[0]!), id: s.split("|")[1]! }))
    .refine((a) => !Number.isNaN(a.failedAt.getTime()), "must be the next_after value of the previous page")
    .optional(),
}).strict();
const ReplayBody = z
  .object({ ids: z.array(z.string().uuid()).min(1).max(1000).optional(), ...Filter, limit: z.number().int().min(1).max(1000).default(100) })
  .strict()
  .refine((b) => b.ids || b.stage || b.reason || b.from || b.to, "name the dead letters: ids, or at least one of stage, reason, from, to");
const IdParams = z.object({ id: z.string().uuid() });

export type DeadLetterRouteDeps = { config: Config; db: PrismaClient; producer: UsageProducer; metrics: Metrics };

export async function deadLetterRoutes(app: FastifyInstance, deps: DeadLetterRouteDeps): Promise<void> {
  const { db } = deps;

  app.get("/v1/dead-letters", { preHandler: requireAdmin }, async (request) => {
    const { limit, after, ...filter } = validate(ListQuery, request.query, "query");
    const rows = await listDeadLetters(db, filter, { limit, after });
    const last = rows.length === limit ? rows[rows.length - 1] : undefined;
    return { dead_letters: rows.map(presentDeadLetter), next_after: last ? `${last.failedAt.toISOString()}|${last.id}` : null };
  });

  app.get("/v1/dead-letters/:id", { preHandler: requireAdmin }, async (request) => {
    const { id } = validate(IdParams, request.params);
    const letter = await findDeadLetter(db, id);
    if (!letter) throw notFound(`no dead letter ${id}`);
    return presentDeadLetter(letter);
  });

  app.post("/v1/dead-letters/replay", { preHandler: requireAdmin }, async (request) => {
    const { limit, ...filter } = validate(ReplayBody, request.body);
    const outcomes = await replayDeadLetters(db, filter, limit, deps);
    return { resubmitted: outcomes.filter((o) => o.outcome === "resubmitted").length, outcomes };
  });
}
