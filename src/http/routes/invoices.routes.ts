// Invoices: the operator sees every invoice; a consumer key sees only its own. The operator may
// finalize a draft early or void an invoice, with a reason kept in the invoice's history.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { finalizeByHand, voidInvoice } from "../../billing/invoice-lifecycle.ts";
import { findInvoice, listInvoices } from "../../billing/invoice.repository.ts";
import type { Config } from "../../config.ts";
import { resolveConsumer } from "../../consumers/consumer.service.ts";
import type { PrismaClient } from "../../db/client.ts";
import { notFound } from "../../domain/errors.ts";
import { consumerRef, pageLimit, safeText } from "../../domain/field-types.ts";
import { answers, SECURITY } from "../openapi.ts";
import { assertOwnConsumer, requireAdmin } from "../principal.ts";
import { actorOf, ActorHeaders, ConsumerParams, IdParams } from "./common.schemas.ts";
import { periodOf, PeriodKey } from "./periods.ts";
import { presentInvoice } from "./invoices.presenter.ts";
import * as C from "../contract/invoices.ts";

const ListQuery = z
  .object({
    consumer: consumerRef.optional(),
    period: PeriodKey.optional(),
    status: z.enum(["draft", "finalized", "void"]).optional(),
    limit: pageLimit(500, 100),
  })
  .strict();

const FinalizeBody = z
  .object({
    reason: safeText(500, 1).optional(),
    allow_unpriced: z.boolean().default(false).meta({
      description:
        "Finalize although billable calls on the invoice have no price (they bill nothing). Without it such an invoice is a 409 naming their models.",
    }),
  })
  .strict();
const VoidBody = z
  .object({
    reason: safeText(500, 1).meta({ description: "Why the invoice is void; kept in its history." }),
    rebill: z.boolean().default(false).meta({ description: "Bill its usage again on the consumer's next invoice." }),
  })
  .strict();

const reader = { tags: ["invoices"], security: SECURITY.reader };
const admin = { tags: ["invoices"], security: SECURITY.admin };

export async function invoiceRoutes(
  app: FastifyInstance,
  { config, db }: { config: Config; db: PrismaClient },
): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const list = async (q: z.infer<typeof ListQuery>, consumerId?: string) => {
    const period = q.period ? await periodOf(db, config.billing, q.period, "query.period") : undefined;
    return {
      invoices: (await listInvoices(db, { consumerId, periodId: period?.id, status: q.status }, q.limit)).map(
        presentInvoice,
      ),
    };
  };
  const shown = async (id: string) => {
    const inv = await findInvoice(db, id);
    if (!inv) throw notFound(`invoice ${id} not found`);
    return presentInvoice(inv);
  };

  r.get(
    "/v1/invoices",
    {
      schema: {
        ...reader,
        summary: "List invoices",
        querystring: ListQuery,
        response: answers(200, C.InvoiceList, 404),
      },
    },
    async (request) => {
      const q = request.query;
      const p = request.principal!;
      if (!q.consumer) return list(q, p.kind === "consumer" ? p.consumerId : undefined);
      // a consumer key naming another consumer is refused, not answered with the caller's own data
      const named = await resolveConsumer(db, q.consumer);
      assertOwnConsumer(request, named.id, q.consumer);
      return list(q, named.id);
    },
  );

  r.get(
    "/v1/consumers/:consumer/invoices",
    {
      schema: {
        ...reader,
        summary: "A consumer's invoices",
        params: ConsumerParams,
        querystring: ListQuery.omit({ consumer: true }),
        response: answers(200, C.InvoiceList, 404),
      },
    },
    async (request) => {
      const c = await resolveConsumer(db, request.params.consumer);
      assertOwnConsumer(request, c.id, request.params.consumer);
      return list(request.query, c.id);
    },
  );

  r.get(
    "/v1/invoices/:id",
    {
      schema: {
        ...reader,
        summary: "Show an invoice with its lines and history",
        params: IdParams,
        response: answers(200, C.Invoice, 404),
      },
    },
    async (request) => {
      const inv = await findInvoice(db, request.params.id);
      const p = request.principal!;
      if (!inv || (p.kind === "consumer" && p.consumerId !== inv.consumerId))
        throw notFound(`invoice ${request.params.id} not found`);
      return presentInvoice(inv);
    },
  );

  r.post(
    "/v1/invoices/:id/finalize",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Finalize a draft now",
        description: "Re-drafts the invoice from the usage, as a billing run would, then finalizes it.",
        params: IdParams,
        headers: ActorHeaders,
        body: FinalizeBody,
        response: answers(200, C.Invoice, 403, 404, 409),
      },
    },
    async (request) => {
      await finalizeByHand(
        db,
        request.params.id,
        {
          actor: actorOf(request, "api").actor,
          reason: request.body.reason,
          allowUnpriced: request.body.allow_unpriced,
        },
        config.billing,
      );
      return shown(request.params.id);
    },
  );

  r.post(
    "/v1/invoices/:id/void",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Void an invoice",
        params: IdParams,
        headers: ActorHeaders,
        body: VoidBody,
        response: answers(200, C.Invoice, 403, 404, 409),
      },
    },
    async (request) => {
      await voidInvoice(db, request.params.id, { actor: actorOf(request, "api").actor, ...request.body });
      return shown(request.params.id);
    },
  );
}
