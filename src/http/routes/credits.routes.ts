// Prepaid credit of a consumer or of a tag's pool (drawn on by every consumer carrying the tag that
// has no grant of its own): grants and top-ups and voids (operator), the balance, grants and
// ledger (operator, or a consumer for the credit it draws on), and a consumer's prepaid settings.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Redis } from "ioredis";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Config } from "../../config.ts";
import { resolveConsumer } from "../../consumers/consumer.service.ts";
import type { PrismaClient } from "../../db/client.ts";
import { localMidnight } from "../../domain/billing-period.ts";
import { badRequest } from "../../domain/errors.ts";
import { calendarDate, instantString, pageLimit, price, safeText, uuid } from "../../domain/field-types.ts";
import {
  budgetPeriodAt,
  creditAllowance,
  fromMicro,
  MAX_BUDGET_AMOUNT,
  ownerKey,
  PREPAID,
} from "../../budgets/budget.ts";
import { HoldLedger } from "../../budgets/hold-ledger.ts";
import { foldLedger } from "../../budgets/ledger-fold.ts";
import { creditBalance, creditLedger, grantCredit, GRANT_KINDS, voidGrant } from "../../credits/credit.service.ts";
import { walletOf, type CreditOwner } from "../../credits/credit-store.ts";
import { consumersWithTag } from "../../budgets/budget.repository.ts";
import { prismaSql } from "../../db/sql.ts";
import { presentBalance, presentEntry } from "./credits.presenter.ts";
import { answers, SECURITY } from "../openapi.ts";
import { assertOwnConsumer, requireAdmin } from "../principal.ts";
import { actorOf, ActorHeaders, ConsumerParams } from "./common.schemas.ts";
import * as C from "../contract/credits.ts";

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
type Deps = { config: Config; db: PrismaClient; redis: Redis; metadataChanged: (ids: string[]) => Promise<void> };

type GrantBody = z.infer<typeof GrantSchema>;
type LedgerParams = z.infer<typeof LedgerQuery>;

export async function creditRoutes(app: FastifyInstance, { config, db, redis, metadataChanged }: Deps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const ledger = new HoldLedger(redis, config.redis.prefix);
  const currency = config.billing.currency;
  const instantOf = (s: string) => (s.length === 10 ? localMidnight(s, config.billing.timeZone) : new Date(s));
  /** The consumers whose credit a change of this owner's grants affects (a first grant can change whose credit they draw on). */
  const affected = async (o: CreditOwner) =>
    o.consumerId !== undefined ? [o.consumerId] : consumersWithTag(db, o.tag);
  /** Authorize holds against the new balance at once; with Redis away, the next fold catches up. */
  const refold = async (request: FastifyRequest, owner: CreditOwner) => {
    await metadataChanged(await affected(owner));
    const credit = creditAllowance(owner);
    await foldLedger({ db, ledger, config }, credit, budgetPeriodAt(credit, new Date(), config.billing.timeZone)).catch(
      (err: unknown) => request.log.warn({ err }, "credit ledger not refolded; the next fold catches up"),
    );
  };
  const ownerJson = (o: CreditOwner) => (o.consumerId !== undefined ? { consumer_id: o.consumerId } : { tag: o.tag });
  const balanceOf = async (owner: CreditOwner) => ({
    ...ownerJson(owner),
    ...presentBalance(await creditBalance(db, owner), currency),
  });
  /** What a consumer sees: the credit it draws on (its own, or its tag's pool), and its settings. */
  const consumerView = async (consumerId: string) => {
    const wallet = await walletOf(prismaSql(db), consumerId);
    const c = await db.consumer.findUniqueOrThrow({
      where: { id: consumerId },
      select: { prepaid: true, creditLowThresholds: true },
    });
    const b = presentBalance(await creditBalance(db, wallet), currency);
    // what authorize holds for calls in flight (null: not prepaid, or Redis away)
    const inFlight = c.prepaid
      ? await ledger.read({ owner: ownerKey(wallet), periodKey: PREPAID }).catch(() => null)
      : null;
    const held = inFlight ? { amount: fromMicro(inFlight.heldMoney).toFixed(), calls: inFlight.holds } : null;
    return {
      consumer_id: consumerId,
      ...(wallet.tag !== undefined ? { pool: wallet.tag } : {}),
      prepaid: c.prepaid,
      low_thresholds: c.creditLowThresholds.map((d) => d.toFixed()),
      held,
      ...b,
    };
  };
  const grant = async (request: FastifyRequest, owner: CreditOwner, b: GrantBody) => {
    const effectiveAt = b.effective_at ? instantOf(b.effective_at) : new Date();
    const expiresAt = b.expires_at ? instantOf(b.expires_at) : null;
    if (expiresAt && expiresAt <= effectiveAt)
      throw badRequest(`expires_at: must be after effective_at (${effectiveAt.toISOString()})`, "expires_at");
    const id = await grantCredit(
      db,
      owner,
      { amount: b.amount, kind: b.kind, priority: b.priority, effectiveAt, expiresAt, note: b.note },
      actorOf(request, "api").actor,
    );
    await refold(request, owner);
    const answer = await balanceOf(owner);
    return { grant: answer.grants.find((g) => g.id === id)!, ...answer };
  };
  const voided = async (request: FastifyRequest, owner: CreditOwner, grantId: string, reason: string) => {
    const amount = await voidGrant(db, owner, grantId, reason, actorOf(request, "api").actor);
    await refold(request, owner);
    return { voided: amount.toFixed(), ...(await balanceOf(owner)) };
  };
  const entries = async (owner: CreditOwner, q: LedgerParams) => {
    const page = await creditLedger(db, owner, {
      from: q.from ? new Date(q.from) : undefined,
      to: q.to ? new Date(q.to) : undefined,
      limit: q.limit,
      after: q.after ? BigInt(q.after) : undefined,
    });
    return {
      ...ownerJson(owner),
      currency,
      entries: page.entries.map(presentEntry),
      next_after: page.more ? page.entries[page.entries.length - 1]!.id.toString() : null,
    };
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
      const c = await resolveConsumer(db, request.params.consumer);
      return reply.code(201).send(await grant(request, { consumerId: c.id }, request.body));
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
    async (request, reply) => reply.code(201).send(await grant(request, { tag: request.params.tag }, request.body)),
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
      const c = await resolveConsumer(db, request.params.consumer);
      const thresholds = [...new Set(request.body.low_thresholds.map((d) => d.toFixed()))].sort(
        (a, b) => Number(a) - Number(b),
      );
      await db.consumer.update({
        where: { id: c.id },
        data: { prepaid: request.body.prepaid, creditLowThresholds: thresholds },
      });
      await refold(request, await walletOf(prismaSql(db), c.id));
      return consumerView(c.id);
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
      const c = await resolveConsumer(db, request.params.consumer);
      return voided(request, { consumerId: c.id }, request.params.grant, request.body.reason);
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
    async (request) => voided(request, { tag: request.params.tag }, request.params.grant, request.body.reason),
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
    async (request) => {
      const c = await resolveConsumer(db, request.params.consumer);
      assertOwnConsumer(request, c.id, request.params.consumer);
      return consumerView(c.id);
    },
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
    async (request) => ({
      consumers: (await consumersWithTag(db, request.params.tag)).length,
      ...(await balanceOf({ tag: request.params.tag })),
    }),
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
      const c = await resolveConsumer(db, request.params.consumer);
      assertOwnConsumer(request, c.id, request.params.consumer);
      return entries({ consumerId: c.id }, request.query);
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
    async (request) => entries({ tag: request.params.tag }, request.query),
  );
}
