// Budgets of a consumer or of a tag (shared by every consumer carrying it): set or change one (a
// new version each time, like metadata), remove it, read its history (operator), and read its
// current spend and what remains (operator, or the consumer for its own).
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { CAP_OUTPUT_SETTINGS } from "../../authorize/output-cap.ts";
import {
  BUDGET_PERIODS,
  budgetPeriodOf,
  LEGACY_BUDGET_PERIODS,
  MAX_BUDGET_AMOUNT,
  MAX_BUDGET_TOKENS,
  type BudgetPeriod,
} from "../../budgets/budget.ts";
import type { Budgets, BudgetSettings } from "../../budgets/budgets.ts";
import { price, safeText } from "../../domain/field-types.ts";
import * as C from "../contract/budgets.ts";
import { answers, SECURITY } from "../openapi.ts";
import { requireAdmin } from "../principal.ts";
import { actorOf, ActorHeaders, ConsumerParams } from "./common.schemas.ts";
import { presentBudgetVersion } from "./budgets.presenter.ts";

const BudgetSchema = z
  .object({
    period: z
      .enum([...BUDGET_PERIODS, ...(Object.keys(LEGACY_BUDGET_PERIODS) as Array<keyof typeof LEGACY_BUDGET_PERIODS>)])
      .transform((p) => budgetPeriodOf(p) as BudgetPeriod)
      .meta({
        description:
          "The budget's period in the billing time zone: daily, weekly or monthly (day, week and month are older spellings of the same; answers use the new ones).",
      }),
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

const TagParams = z.object({
  tag: safeText(200, 1).meta({
    description: "A consumer tag (metadata tags): the budget is shared by every consumer carrying it.",
  }),
});

const settingsOf = (b: z.infer<typeof BudgetSchema>): BudgetSettings => ({
  period: b.period,
  amount: b.amount ?? null,
  tokens: b.tokens === undefined ? null : BigInt(b.tokens),
  thresholds: b.thresholds,
  capOutput: b.cap_output,
});

export async function budgetRoutes(app: FastifyInstance, { budgets }: { budgets: Budgets }): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

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
      const actor = actorOf(request, "api").actor;
      const set = await budgets.setForConsumer(request.params.consumer, settingsOf(request.body), actor);
      return { consumer_id: set.consumerId, ...presentBudgetVersion(set.version), status: set.status };
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
      const removed = await budgets.removeForConsumer(request.params.consumer, actorOf(request, "api").actor);
      return { consumer_id: removed.consumerId, ...presentBudgetVersion(removed.version) };
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
      const s = await budgets.consumerStatus(request.params.consumer, request.principal);
      return { consumer_id: s.consumerId, ...s.status, credit: s.credit };
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
      const h = await budgets.consumerHistory(request.params.consumer);
      return { consumer_id: h.consumerId, versions: h.versions.map(presentBudgetVersion) };
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
    async (request) => {
      const { tag } = request.params;
      const set = await budgets.set({ tag }, settingsOf(request.body), actorOf(request, "api").actor);
      return { tag, ...presentBudgetVersion(set.version), status: set.status };
    },
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
    async (request) => {
      const { tag } = request.params;
      return { tag, ...presentBudgetVersion(await budgets.remove({ tag }, actorOf(request, "api").actor)) };
    },
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
    async (request) => {
      const { tag } = request.params;
      return { tag, consumers: await budgets.tagConsumers(tag), ...(await budgets.status({ tag })) };
    },
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
    async (request) => {
      const { tag } = request.params;
      return { tag, versions: (await budgets.history({ tag })).map(presentBudgetVersion) };
    },
  );
}
