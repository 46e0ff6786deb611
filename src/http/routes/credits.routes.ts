// Prepaid credit of a consumer or of a tag's pool (drawn on by every consumer carrying the tag that
// has no grant of its own): grants and top-ups and voids (operator), the balance, grants and
// ledger (operator, or a consumer for the credit it draws on), and a consumer's prepaid settings.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { MAX_BUDGET_AMOUNT } from "../../budgets/budget.ts";
import type { Config } from "../../config.ts";
import type { CreditOwner } from "../../credits/credit-store.ts";
import { GRANT_KINDS, type LedgerQuery as LedgerPage } from "../../credits/credit.service.ts";
import type { Credits } from "../../credits/credits.ts";
import { calendarDate, instantString, pageLimit, price, safeText, uuid } from "../../domain/field-types.ts";
import * as C from "../contract/credits.ts";
import { answers, SECURITY } from "../openapi.ts";
import { requireAdmin } from "../principal.ts";
import { actorOf, ActorHeaders, ConsumerParams } from "./common.schemas.ts";
import { presentBalance, presentConsumerCredit, presentEntry } from "./credits.presenter.ts";

/** Most credit one grant may carry: what authorize's hold ledger counts exactly. */
const MAX_GRANT = MAX_BUDGET_AMOUNT;
const MAX_PRIORITY = 1000;

const amount = (what: string) =>
  price
    .refine((d) => d.gt(0), "must be more than 0")
    .refine((d) => d.lte(MAX_GRANT), `must be at most ${MAX_GRANT.toFixed()}`)
    .meta({ description: `${what}, in the billing currency (decimal string).` });

const when = (what: string) =>
  z
    .union([calendarDate, instantString])
    .meta({ description: `${what}: a date-time with offset, or a date (midnight in the billing time zone).` });

export const GrantSchema = z
  .object({
    amount: amount("The credit granted"),
    kind: z.enum(GRANT_KINDS).meta({
      description: "purchase (bought, a top-up), promotion (given), or adjustment (an operator's correction).",
    }),
    priority: z
      .number()
      .int()
      .min(0)
      .max(MAX_PRIORITY)
      .default(10)
      .meta({ description: "Lower burns first; equal priorities burn the soonest expiry, then the oldest grant." }),
    effective_at: when("When the credit can first be used (default: now)").optional(),
    expires_at: when("When what is left expires (default: never)").optional(),
    note: safeText(500).optional().meta({ description: "Why the grant was made (an order number, a campaign)." }),
  })
  .strict();

const CreditSettingsSchema = z
  .object({
    prepaid: z.boolean().meta({
      description:
        "true: authorize admits a call only when its most cost fits the available credit (402 credits_exhausted otherwise).",
    }),
    low_thresholds: z
      .array(amount("A balance below which credits.low is sent"))
      .max(10)
      .default([])
      .meta({ description: "Balances below which credits.low is sent, once per grant and threshold." }),
  })
  .strict();

const VoidSchema = z
  .object({ reason: safeText(500, 1).meta({ description: "Why what is left of the grant is voided." }) })
  .strict();
const GrantParams = z.object({ consumer: ConsumerParams.shape.consumer, grant: uuid });
const TagParams = z.object({
  tag: safeText(200, 1).meta({
    description: "A consumer tag: its pool is drawn on by every consumer carrying it that has no credit of its own.",
  }),
});
const TagGrantParams = TagParams.extend({ grant: uuid });
const LedgerQuery = z
  .object({
    from: instantString.optional(),
    to: instantString.optional(),
    limit: pageLimit(1000, 200),
    after: z
      .string()
      .regex(/^\d{1,18}$/, "must be the id of a ledger entry")
      .optional()
      .meta({ description: "The last entry id of the previous page." }),
  })
  .strict();

const admin = { tags: ["credits"], security: SECURITY.admin };

type GrantBody = z.infer<typeof GrantSchema>;
type Balance = Awaited<ReturnType<Credits["balance"]>>;
type Ledger = Awaited<ReturnType<Credits["ledger"]>>;

const ownerJson = (o: CreditOwner) => (o.consumerId !== undefined ? { consumer_id: o.consumerId } : { tag: o.tag });
const grantOf = (b: GrantBody) => ({
  amount: b.amount,
  kind: b.kind,
  priority: b.priority,
  effectiveAt: b.effective_at,
  expiresAt: b.expires_at,
  note: b.note,
});
const pageOf = (q: z.infer<typeof LedgerQuery>): LedgerPage => ({
  from: q.from ? new Date(q.from) : undefined,
  to: q.to ? new Date(q.to) : undefined,
  limit: q.limit,
  after: q.after ? BigInt(q.after) : undefined,
});

export async function creditRoutes(app: FastifyInstance, { config, credits }: { config: Config; credits: Credits }) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const currency = config.billing.currency;
  const balanceJson = (owner: CreditOwner, b: Balance) => ({ ...ownerJson(owner), ...presentBalance(b, currency) });
  const ledgerJson = (owner: CreditOwner, page: Ledger) => ({
    ...ownerJson(owner),
    currency,
    entries: page.entries.map(presentEntry),
    next_after: page.more ? page.entries[page.entries.length - 1]!.id.toString() : null,
  });
  const granted = async (owner: CreditOwner, b: GrantBody, actor: string) => {
    const g = await credits.grant(owner, grantOf(b), actor);
    const answer = balanceJson(owner, g.balance);
    return { grant: answer.grants.find((x) => x.id === g.grant.id)!, ...answer };
  };
  const voided = async (owner: CreditOwner, grantId: string, reason: string, actor: string) => {
    const v = await credits.void(owner, grantId, reason, actor);
    return { voided: v.voided.toFixed(), ...balanceJson(owner, v.balance) };
  };

  r.post(
    "/v1/consumers/:consumer/credits/grants",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Grant credit to a consumer (a purchase, top-up, promotion or adjustment)",
        params: ConsumerParams,
        headers: ActorHeaders,
        body: GrantSchema,
        response: answers(201, C.Granted, 400, 403, 404),
      },
    },
    async (request, reply) => {
      const owner = await credits.ownerOf({ consumer: request.params.consumer });
      return reply.code(201).send(await granted(owner, request.body, actorOf(request, "api").actor));
    },
  );

  r.post(
    "/v1/tags/:tag/credits/grants",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Grant credit to a tag's pool, drawn on by its consumers that have no credit of their own",
        params: TagParams,
        headers: ActorHeaders,
        body: GrantSchema,
        response: answers(201, C.Granted, 400, 403),
      },
    },
    async (request, reply) =>
      reply.code(201).send(await granted({ tag: request.params.tag }, request.body, actorOf(request, "api").actor)),
  );

  r.put(
    "/v1/consumers/:consumer/credits/settings",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Put a consumer in prepaid mode (or out of it), and set its low-balance alerts",
        params: ConsumerParams,
        body: CreditSettingsSchema,
        response: answers(200, C.ConsumerCredit, 400, 403, 404),
      },
    },
    async (request) => {
      const { prepaid, low_thresholds } = request.body;
      const view = await credits.setSettings(request.params.consumer, prepaid, low_thresholds);
      return presentConsumerCredit(view, currency);
    },
  );

  r.post(
    "/v1/consumers/:consumer/credits/grants/:grant/void",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Void what is left of a consumer's grant",
        params: GrantParams,
        headers: ActorHeaders,
        body: VoidSchema,
        response: answers(200, C.Voided, 400, 403, 404, 409),
      },
    },
    async (request) => {
      const owner = await credits.ownerOf({ consumer: request.params.consumer });
      return voided(owner, request.params.grant, request.body.reason, actorOf(request, "api").actor);
    },
  );

  r.post(
    "/v1/tags/:tag/credits/grants/:grant/void",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Void what is left of a pool's grant",
        params: TagGrantParams,
        headers: ActorHeaders,
        body: VoidSchema,
        response: answers(200, C.Voided, 400, 403, 404, 409),
      },
    },
    async (request) =>
      voided({ tag: request.params.tag }, request.params.grant, request.body.reason, actorOf(request, "api").actor),
  );

  r.get(
    "/v1/consumers/:consumer/credits",
    {
      schema: {
        tags: ["credits"],
        security: SECURITY.reader,
        summary:
          "The credit a consumer draws on (its own or its tag's pool): balance, scheduled grants, next expiry and every grant",
        params: ConsumerParams,
        response: answers(200, C.ConsumerCredit, 404),
      },
    },
    async (request) =>
      presentConsumerCredit(await credits.consumerView(request.params.consumer, request.principal), currency),
  );

  r.get(
    "/v1/tags/:tag/credits",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "A tag's pool: balance, scheduled grants, next expiry and every grant",
        params: TagParams,
        response: answers(200, C.TagCredit, 403),
      },
    },
    async (request) => {
      const owner = { tag: request.params.tag };
      return { consumers: await credits.tagConsumers(owner.tag), ...balanceJson(owner, await credits.balance(owner)) };
    },
  );

  r.get(
    "/v1/consumers/:consumer/credits/ledger",
    {
      schema: {
        tags: ["credits"],
        security: SECURITY.reader,
        summary: "Every movement of a consumer's credit (and its calls' burns of a pool's), oldest first",
        params: ConsumerParams,
        querystring: LedgerQuery,
        response: answers(200, C.CreditLedger, 400, 404),
      },
    },
    async (request) => {
      const l = await credits.consumerLedger(request.params.consumer, pageOf(request.query), request.principal);
      return ledgerJson({ consumerId: l.consumerId }, l.page);
    },
  );

  r.get(
    "/v1/tags/:tag/credits/ledger",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Every movement of a tag's pool, oldest first",
        params: TagParams,
        querystring: LedgerQuery,
        response: answers(200, C.CreditLedger, 400, 403),
      },
    },
    async (request) => {
      const owner = { tag: request.params.tag };
      return ledgerJson(owner, await credits.ledger(owner, pageOf(request.query)));
    },
  );
}
