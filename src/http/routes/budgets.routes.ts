// A consumer's budget: set or change it (a new version each time, like metadata), remove it, read
// its history (operator), and read its current spend and what remains (operator or the consumer).
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { Redis } from "ioredis";
import { z } from "zod";
import type { Config } from "../../config.ts";
import { resolveConsumer } from "../../consumers/consumer.service.ts";
import type { PrismaClient } from "../../db/client.ts";
import { notFound } from "../../domain/errors.ts";
import { price } from "../../domain/field-types.ts";
import { budgetHistory, changeBudget } from "../../budgets/budget.repository.ts";
import { BUDGET_PERIODS, MAX_BUDGET_AMOUNT, MAX_BUDGET_TOKENS } from "../../budgets/budget.ts";
import { budgetStatus } from "../../budgets/budget-status.ts";
import { HoldLedger } from "../../budgets/hold-ledger.ts";
import { answers, SECURITY } from "../openapi.ts";
import { assertOwnConsumer, requireAdmin } from "../principal.ts";
import { actorOf, ActorHeaders, ConsumerParams } from "./common.schemas.ts";

export const BudgetSchema = z
  .object({
    period: z.enum(BUDGET_PERIODS).meta({ description: "The budget's period, in the billing time zone." }),
    amount: price
      .refine((d) => d.gt(0), "must be more than 0")
      .refine((d) => d.lte(MAX_BUDGET_AMOUNT), `must be at most ${MAX_BUDGET_AMOUNT.toFixed()}`)
      .optional()
      .meta({ description: "Hard limit in the billing currency (decimal string)." }),
    tokens: z.number().int().positive().max(Number(MAX_BUDGET_TOKENS)).optional().meta({ description: "Hard limit in tokens, every type together." }),
    thresholds: z
      .array(z.number().int().min(1).max(99))
      .max(10)
      .refine((t) => new Set(t).size === t.length, "must not repeat a percentage")
      .default([])
      .meta({ description: "Soft thresholds in percent of each limit (e.g. [50, 80]); each sends budget.threshold_crossed once per period." }),
  })
  .strict()
  .refine((b) => b.amount !== undefined || b.tokens !== undefined, { message: "amount or tokens is required", path: ["amount"] });

const admin = { tags: ["budgets"], security: SECURITY.admin };

type Deps = { config: Config; db: PrismaClient; redis: Redis; metadataChanged: (ids: string[]) => Promise<void> };

const presentVersion = (v: Awaited<ReturnType<typeof budgetHistory>>[number]) => ({
  version: v.version,
  period: v.period,
  amount: v.amount?.toFixed() ?? null,
  tokens: v.tokens?.toString() ?? null,
  thresholds: v.thresholds,
  removed: v.removed,
  actor: v.actor,
  changed_at: v.changedAt.toISOString(),
});

export async function budgetRoutes(app: FastifyInstance, { config, db, redis, metadataChanged }: Deps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const ledger = new HoldLedger(redis, config.redis.prefix);

  r.put(
    "/v1/consumers/:consumer/budget",
    { onRequest: requireAdmin, schema: { ...admin, summary: "Set or change a consumer's budget (a new version)", params: ConsumerParams, headers: ActorHeaders, body: BudgetSchema, response: answers(200, 403, 404) } },
    async (request) => {
      const c = await resolveConsumer(db, request.params.consumer);
      const b = request.body;
      const thresholds = [...b.thresholds].sort((x, y) => x - y);
      const v = await changeBudget(db, c.id, { period: b.period, amount: b.amount ?? null, tokens: b.tokens === undefined ? null : BigInt(b.tokens), thresholds }, actorOf(request, "api").actor);
      await metadataChanged([c.id]);
      return { consumer_id: c.id, ...presentVersion(v!), status: await budgetStatus(db, ledger, config, c.id) };
    },
  );

  r.delete(
    "/v1/consumers/:consumer/budget",
    { onRequest: requireAdmin, schema: { ...admin, summary: "Remove a consumer's budget (kept in its history)", params: ConsumerParams, headers: ActorHeaders, response: answers(200, 403, 404) } },
    async (request) => {
      const c = await resolveConsumer(db, request.params.consumer);
      const v = await changeBudget(db, c.id, { removed: true }, actorOf(request, "api").actor);
      if (!v) throw notFound("this consumer has no budget");
      await metadataChanged([c.id]);
      return { consumer_id: c.id, ...presentVersion(v) };
    },
  );

  r.get(
    "/v1/consumers/:consumer/budget",
    { schema: { tags: ["budgets"], security: SECURITY.reader, summary: "A consumer's budget: committed, held and remaining in the current period", params: ConsumerParams, response: answers(200, 404) } },
    async (request) => {
      const c = await resolveConsumer(db, request.params.consumer);
      assertOwnConsumer(request, c.id, request.params.consumer);
      const status = await budgetStatus(db, ledger, config, c.id);
      if (!status) throw notFound("this consumer has no budget");
      return { consumer_id: c.id, ...status };
    },
  );

  r.get(
    "/v1/consumers/:consumer/budget/versions",
    { onRequest: requireAdmin, schema: { ...admin, summary: "Every version of a consumer's budget", params: ConsumerParams, response: answers(200, 403, 404) } },
    async (request) => {
      const c = await resolveConsumer(db, request.params.consumer);
      return { consumer_id: c.id, versions: (await budgetHistory(db, c.id)).map(presentVersion) };
    },
  );
}
