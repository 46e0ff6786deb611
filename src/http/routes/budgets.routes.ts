// Budgets of a consumer or of a tag (shared by every consumer carrying it): set or change one (a
// new version each time, like metadata), remove it, read its history (operator), and read its
// current spend and what remains (operator, or the consumer for its own).
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { Redis } from "ioredis";
import { z } from "zod";
import type { Config } from "../../config.ts";
import { resolveConsumer } from "../../consumers/consumer.service.ts";
import type { PrismaClient } from "../../db/client.ts";
import { conflict, notFound } from "../../domain/errors.ts";
import { price, safeText } from "../../domain/field-types.ts";
import { budgetHistory, changeBudget, consumersWithTag } from "../../budgets/budget.repository.ts";
import { BUDGET_PERIODS, MAX_BUDGET_AMOUNT, MAX_BUDGET_TOKENS, type BudgetOwner } from "../../budgets/budget.ts";
import { budgetStatus } from "../../budgets/budget-status.ts";
import { HoldLedger } from "../../budgets/hold-ledger.ts";
import { creditSummary } from "../../credits/credit-hold.ts";
import { CAP_OUTPUT_SETTINGS } from "../../authorize/output-cap.ts";
import { answers, SECURITY } from "../openapi.ts";
import { assertOwnConsumer, requireAdmin } from "../principal.ts";
import { actorOf, ActorHeaders, ConsumerParams } from "./common.schemas.ts";
import * as C from "../contract/budgets.ts";

const BudgetSchema = z
  .object({
    period: z.enum(BUDGET_PERIODS).meta({ description: "The budget's period, in the billing time zone." }),
    amount: price
      .refine((d) => d.gt(0), "must be more than 0")
      .refine((d) => d.lte(MAX_BUDGET_AMOUNT), `must be at most ${MAX_BUDGET_AMOUNT.toFixed()}`)
      .optional()
      .meta({ description: "Hard limit in the billing currency (decimal string)." }),
    tokens: z
      .number()
      .int()
      .positive()
      .max(Number(MAX_BUDGET_TOKENS))
      .optional()
      .meta({ description: "Hard limit in tokens, every type together." }),
    thresholds: z
      .array(z.number().int().min(1).max(99))
      .max(10)
      .refine((t) => new Set(t).size === t.length, "must not repeat a percentage")
      .default([])
      .meta({
        description:
          "Soft thresholds in percent of each limit (e.g. [50, 80]); each sends budget.threshold_crossed once per period.",
      }),
    cap_output: z.enum(CAP_OUTPUT_SETTINGS).default("auto").meta({
      description:
        "auto: the gateway sets the request's output cap (the field its API reads) to what the budget can pay for; off: never; or the field to set (e.g. max_completion_tokens).",
    }),
  })
  .strict()
  .refine((b) => b.amount !== undefined || b.tokens !== undefined, {
    message: "amount or tokens is required",
    path: ["amount"],
  });

const admin = { tags: ["budgets"], security: SECURITY.admin };

type Deps = { config: Config; db: PrismaClient; redis: Redis; metadataChanged: (ids: string[]) => Promise<void> };

const presentVersion = (v: Awaited<ReturnType<typeof budgetHistory>>[number]) => ({
  version: v.version,
  period: v.period,
  amount: v.amount?.toFixed() ?? null,
  tokens: v.tokens?.toString() ?? null,
  thresholds: v.thresholds,
  cap_output: v.capOutput,
  removed: v.removed,
  actor: v.actor,
  changed_at: v.changedAt.toISOString(),
});

const TagParams = z.object({
  tag: safeText(200, 1).meta({
    description: "A consumer tag (metadata tags): the budget is shared by every consumer carrying it.",
  }),
});
type BudgetBody = z.infer<typeof BudgetSchema>;

export async function budgetRoutes(app: FastifyInstance, { config, db, redis, metadataChanged }: Deps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const ledger = new HoldLedger(redis, config.redis.prefix);
  // the consumers whose authorize decisions a change affects
  const affected = async (o: BudgetOwner) =>
    o.consumerId !== undefined ? [o.consumerId] : consumersWithTag(db, o.tag);

  const set = async (owner: BudgetOwner, b: BudgetBody, actor: string) => {
    const thresholds = [...b.thresholds].sort((x, y) => x - y);
    const v = await changeBudget(
      db,
      owner,
      {
        period: b.period,
        amount: b.amount ?? null,
        tokens: b.tokens === undefined ? null : BigInt(b.tokens),
        thresholds,
        capOutput: b.cap_output,
      },
      actor,
    );
    await metadataChanged(await affected(owner));
    return { ...presentVersion(v!), status: await budgetStatus(db, ledger, config, owner) };
  };
  const remove = async (owner: BudgetOwner, actor: string) => {
    const v = await changeBudget(db, owner, { removed: true }, actor);
    if (!v) throw notFound(`${owner.tag !== undefined ? "this tag" : "this consumer"} has no budget`);
    await metadataChanged(await affected(owner));
    return presentVersion(v);
  };
  const status = async (owner: BudgetOwner) => {
    const s = await budgetStatus(db, ledger, config, owner);
    if (!s) throw notFound(`${owner.tag !== undefined ? "this tag" : "this consumer"} has no budget`);
    return s;
  };

  r.put(
    "/v1/consumers/:consumer/budget",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Set or change a consumer's budget (a new version)",
        params: ConsumerParams,
        headers: ActorHeaders,
        body: BudgetSchema,
        response: answers(200, C.ConsumerBudgetSet, 403, 404, 409),
      },
    },
    async (request) => {
      const c = await resolveConsumer(db, request.params.consumer);
      // never accepted and then ignored: authorize answers an unconfigured consumer before any budget
      if (!c.configured) {
        throw conflict(
          `consumer: ${request.params.consumer} is not configured, so authorize answers it by AUTHORIZE_UNCONFIGURED before any budget is checked; configure it first (PATCH /v1/consumers/:consumer)`,
          "consumer",
        );
      }
      return { consumer_id: c.id, ...(await set({ consumerId: c.id }, request.body, actorOf(request, "api").actor)) };
    },
  );

  r.delete(
    "/v1/consumers/:consumer/budget",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Remove a consumer's budget (kept in its history)",
        params: ConsumerParams,
        headers: ActorHeaders,
        response: answers(200, C.ConsumerBudgetRemoved, 403, 404),
      },
    },
    async (request) => {
      const c = await resolveConsumer(db, request.params.consumer);
      return { consumer_id: c.id, ...(await remove({ consumerId: c.id }, actorOf(request, "api").actor)) };
    },
  );

  r.get(
    "/v1/consumers/:consumer/budget",
    {
      schema: {
        tags: ["budgets"],
        security: SECURITY.reader,
        summary: "A consumer's budget: committed, held and remaining in the current period",
        params: ConsumerParams,
        response: answers(200, C.ConsumerBudget, 404),
      },
    },
    async (request) => {
      const c = await resolveConsumer(db, request.params.consumer);
      assertOwnConsumer(request, c.id, request.params.consumer);
      return {
        consumer_id: c.id,
        ...(await status({ consumerId: c.id })),
        credit: await creditSummary(db, c.id, config.billing.currency),
      };
    },
  );

  r.get(
    "/v1/consumers/:consumer/budget/versions",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Every version of a consumer's budget",
        params: ConsumerParams,
        response: answers(200, C.ConsumerBudgetVersions, 403, 404),
      },
    },
    async (request) => {
      const c = await resolveConsumer(db, request.params.consumer);
      return { consumer_id: c.id, versions: (await budgetHistory(db, { consumerId: c.id })).map(presentVersion) };
    },
  );

  r.put(
    "/v1/tags/:tag/budget",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Set or change a tag's budget, shared by every consumer carrying the tag",
        params: TagParams,
        headers: ActorHeaders,
        body: BudgetSchema,
        response: answers(200, C.TagBudgetSet, 403),
      },
    },
    async (request) => ({
      tag: request.params.tag,
      ...(await set({ tag: request.params.tag }, request.body, actorOf(request, "api").actor)),
    }),
  );

  r.delete(
    "/v1/tags/:tag/budget",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Remove a tag's budget (kept in its history)",
        params: TagParams,
        headers: ActorHeaders,
        response: answers(200, C.TagBudgetRemoved, 403, 404),
      },
    },
    async (request) => ({
      tag: request.params.tag,
      ...(await remove({ tag: request.params.tag }, actorOf(request, "api").actor)),
    }),
  );

  r.get(
    "/v1/tags/:tag/budget",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "A tag's budget: committed, held and remaining across its consumers",
        params: TagParams,
        response: answers(200, C.TagBudget, 403, 404),
      },
    },
    async (request) => ({
      tag: request.params.tag,
      consumers: (await consumersWithTag(db, request.params.tag)).length,
      ...(await status({ tag: request.params.tag })),
    }),
  );

  r.get(
    "/v1/tags/:tag/budget/versions",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Every version of a tag's budget",
        params: TagParams,
        response: answers(200, C.TagBudgetVersions, 403),
      },
    },
    async (request) => ({
      tag: request.params.tag,
      versions: (await budgetHistory(db, { tag: request.params.tag })).map(presentVersion),
    }),
  );
}
