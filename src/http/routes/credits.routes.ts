// Prepaid credit of a consumer: grants and top-ups (operator), voids (operator), its balance and
// grants and its ledger (operator, or the consumer for its own), and its prepaid settings.
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
import { budgetPeriodAt, creditAllowance, MAX_BUDGET_AMOUNT } from "../../budgets/budget.ts";
import { HoldLedger } from "../../budgets/hold-ledger.ts";
import { foldLedger } from "../../budgets/ledger-fold.ts";
import { creditBalance, creditLedger, grantCredit, GRANT_KINDS, voidGrant } from "../../credits/credit.service.ts";
import type { Decimal } from "../../domain/money.ts";
import { answers, SECURITY } from "../openapi.ts";
import { assertOwnConsumer, requireAdmin } from "../principal.ts";
import { actorOf, ActorHeaders, ConsumerParams } from "./common.schemas.ts";

/** Most credit one grant may carry: what authorize's hold ledger counts exactly. */
const MAX_GRANT = MAX_BUDGET_AMOUNT;
const MAX_PRIORITY = 1000;

const amount = (what: string) =>
  price
    .refine((d) => d.gt(0), "must be more than 0")
    .refine((d) => d.lte(MAX_GRANT), `must be at most ${MAX_GRANT.toFixed()}`)
    .meta({ description: `${what}, in the billing currency (decimal string).` });

const when = (what: string) =>
  z.union([calendarDate, instantString]).meta({ description: `${what}: a date-time with offset, or a date (midnight in the billing time zone).` });

export const GrantSchema = z
  .object({
    amount: amount("The credit granted"),
    kind: z.enum(GRANT_KINDS).meta({ description: "purchase (bought, a top-up), promotion (given), or adjustment (an operator's correction)." }),
    priority: z.number().int().min(0).max(MAX_PRIORITY).default(10).meta({ description: "Lower burns first; equal priorities burn the soonest expiry, then the oldest grant." }),
    effective_at: when("When the credit can first be used (default: now)").optional(),
    expires_at: when("When what is left expires (default: never)").optional(),
    note: safeText(500).optional().meta({ description: "Why the grant was made (an order number, a campaign)." }),
  })
  .strict();

export const CreditSettingsSchema = z
  .object({
    prepaid: z.boolean().meta({ description: "true: authorize admits a call only when its most cost fits the available credit (402 credits_exhausted otherwise)." }),
    low_thresholds: z
      .array(amount("A balance below which credits.low is sent"))
      .max(10)
      .default([])
      .meta({ description: "Balances below which credits.low is sent, once per grant and threshold." }),
  })
  .strict();

const VoidSchema = z.object({ reason: safeText(500, 1).meta({ description: "Why what is left of the grant is voided." }) }).strict();
const GrantParams = z.object({ consumer: ConsumerParams.shape.consumer, grant: uuid });
const LedgerQuery = z
  .object({
    from: instantString.optional(),
    to: instantString.optional(),
    limit: pageLimit(1000, 200),
    after: z.string().regex(/^\d{1,18}$/, "must be the id of a ledger entry").optional().meta({ description: "The last entry id of the previous page." }),
  })
  .strict();

const admin = { tags: ["credits"], security: SECURITY.admin };
type Deps = { config: Config; db: PrismaClient; redis: Redis; metadataChanged: (ids: string[]) => Promise<void> };

const money = (d: Decimal) => d.toFixed();
const iso = (d: Date | null) => d?.toISOString() ?? null;

export async function creditRoutes(app: FastifyInstance, { config, db, redis, metadataChanged }: Deps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const ledger = new HoldLedger(redis, config.redis.prefix);
  /** Authorize holds against the new balance at once; with Redis away, the next fold catches up. */
  const refold = async (request: FastifyRequest, consumerId: string) => {
    const credit = creditAllowance(consumerId);
    await foldLedger({ db, ledger, config }, credit, budgetPeriodAt(credit, new Date(), config.billing.timeZone)).catch((err: unknown) =>
      request.log.warn({ err }, "credit ledger not refolded; the next fold catches up"),
    );
  };
  const currency = config.billing.currency;
  const instantOf = (s: string) => (s.length === 10 ? localMidnight(s, config.billing.timeZone) : new Date(s));

  const balance = async (consumerId: string) => {
    const b = await creditBalance(db, consumerId);
    return {
      consumer_id: consumerId,
      currency,
      prepaid: b.settings.prepaid,
      low_thresholds: b.settings.lowThresholds.map(money),
      as_of: b.now.toISOString(),
      balance: money(b.balance),
      scheduled: money(b.scheduled),
      next_expiry: b.nextExpiry ? { at: b.nextExpiry.at.toISOString(), amount: money(b.nextExpiry.amount), grant_id: b.nextExpiry.grantId } : null,
      grants: b.grants.map((g) => ({
        id: g.id,
        kind: g.kind,
        status: g.status,
        amount: money(g.amount),
        remaining: money(g.remaining),
        burnt: money(g.burnt),
        expired: money(g.expired),
        voided: money(g.voided),
        priority: g.priority,
        effective_at: g.effectiveAt.toISOString(),
        expires_at: iso(g.expiresAt),
        note: g.note,
        void_reason: g.voidReason,
        actor: g.actor,
        created_at: g.createdAt.toISOString(),
      })),
    };
  };

  r.post(
    "/v1/consumers/:consumer/credits/grants",
    { onRequest: requireAdmin, schema: { ...admin, summary: "Grant credit to a consumer (a purchase, top-up, promotion or adjustment)", params: ConsumerParams, headers: ActorHeaders, body: GrantSchema, response: answers(201, 400, 403, 404) } },
    async (request, reply) => {
      const c = await resolveConsumer(db, request.params.consumer);
      const b = request.body;
      const effectiveAt = b.effective_at ? instantOf(b.effective_at) : new Date();
      const expiresAt = b.expires_at ? instantOf(b.expires_at) : null;
      if (expiresAt && expiresAt <= effectiveAt) throw badRequest(`expires_at: must be after effective_at (${effectiveAt.toISOString()})`, "expires_at");
      const id = await grantCredit(db, c.id, { amount: b.amount, kind: b.kind, priority: b.priority, effectiveAt, expiresAt, note: b.note }, actorOf(request, "api").actor);
      await refold(request, c.id);
      const answer = await balance(c.id);
      return reply.code(201).send({ grant: answer.grants.find((g) => g.id === id)!, ...answer });
    },
  );

  r.put(
    "/v1/consumers/:consumer/credits/settings",
    { onRequest: requireAdmin, schema: { ...admin, summary: "Put a consumer in prepaid mode (or out of it), and set its low-balance alerts", params: ConsumerParams, body: CreditSettingsSchema, response: answers(200, 400, 403, 404) } },
    async (request) => {
      const c = await resolveConsumer(db, request.params.consumer);
      const thresholds = [...new Set(request.body.low_thresholds.map(money))].sort((a, b) => Number(a) - Number(b));
      await db.consumer.update({ where: { id: c.id }, data: { prepaid: request.body.prepaid, creditLowThresholds: thresholds } });
      await metadataChanged([c.id]);
      await refold(request, c.id);
      return balance(c.id);
    },
  );

  r.post(
    "/v1/consumers/:consumer/credits/grants/:grant/void",
    { onRequest: requireAdmin, schema: { ...admin, summary: "Void what is left of a grant", params: GrantParams, headers: ActorHeaders, body: VoidSchema, response: answers(200, 400, 403, 404, 409) } },
    async (request) => {
      const c = await resolveConsumer(db, request.params.consumer);
      const voided = await voidGrant(db, c.id, request.params.grant, request.body.reason, actorOf(request, "api").actor);
      await refold(request, c.id);
      return { voided: money(voided), ...(await balance(c.id)) };
    },
  );

  r.get(
    "/v1/consumers/:consumer/credits",
    { schema: { tags: ["credits"], security: SECURITY.reader, summary: "A consumer's credit: balance, scheduled grants, next expiry and every grant", params: ConsumerParams, response: answers(200, 404) } },
    async (request) => {
      const c = await resolveConsumer(db, request.params.consumer);
      assertOwnConsumer(request, c.id, request.params.consumer);
      return balance(c.id);
    },
  );

  r.get(
    "/v1/consumers/:consumer/credits/ledger",
    { schema: { tags: ["credits"], security: SECURITY.reader, summary: "Every movement of a consumer's credit, oldest first", params: ConsumerParams, querystring: LedgerQuery, response: answers(200, 400, 404) } },
    async (request) => {
      const c = await resolveConsumer(db, request.params.consumer);
      assertOwnConsumer(request, c.id, request.params.consumer);
      const q = request.query;
      const page = await creditLedger(db, c.id, { from: q.from ? new Date(q.from) : undefined, to: q.to ? new Date(q.to) : undefined, limit: q.limit, after: q.after ? BigInt(q.after) : undefined });
      return {
        consumer_id: c.id,
        currency,
        entries: page.entries.map((e) => ({
          id: e.id.toString(),
          grant_id: e.grantId,
          kind: e.kind,
          amount: e.amount.toFixed(),
          event_id: e.eventId,
          at: e.at.toISOString(),
          recorded_at: e.recordedAt.toISOString(),
          note: e.note,
        })),
        next_after: page.more ? page.entries[page.entries.length - 1]!.id.toString() : null,
      };
    },
  );
}
