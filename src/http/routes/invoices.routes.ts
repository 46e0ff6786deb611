// Invoices: the operator sees every invoice; a consumer key sees only its own. The operator may
// finalize a draft early or void an invoice, with a reason kept in the invoice's history.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Invoices } from "../../billing/invoices.ts";
import { consumerRef, pageLimit, safeText } from "../../domain/field-types.ts";
import { answers, SECURITY } from "../openapi.ts";
import { requireAdmin } from "../principal.ts";
import { actorOf, ActorHeaders, ConsumerParams, IdParams } from "./common.schemas.ts";
import { PeriodKey } from "./periods.ts";
import { presentInvoice } from "./invoices.presenter.ts";
import * as C from "../contract/invoices.ts";
import { INVOICE_STYLE_HASH, invoiceHtml } from "../../billing/documents/invoice-html.ts";
import { invoicePdf } from "../../billing/documents/invoice-pdf.ts";

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

export async function invoiceRoutes(app: FastifyInstance, { invoices }: { invoices: Invoices }): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

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
    async (request) => ({ invoices: (await invoices.list(request.query, request.principal)).map(presentInvoice) }),
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
      const q = { ...request.query, consumer: request.params.consumer };
      return { invoices: (await invoices.list(q, request.principal)).map(presentInvoice) };
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
    async (request) => presentInvoice(await invoices.show(request.params.id, request.principal)),
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
      const { reason, allow_unpriced } = request.body;
      const by = { actor: actorOf(request, "api").actor, reason, allowUnpriced: allow_unpriced };
      return presentInvoice(await invoices.finalize(request.params.id, by));
    },
  );

  r.post(
    "/v1/invoices/:id/redraft",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Re-draft a draft from the usage and prices as they are now",
        description:
          "For a draft under review: after pricing its unpriced calls or correcting a rate, the draft's lines follow. Its status and review window do not change.",
        params: IdParams,
        response: answers(200, C.Invoice, 403, 404, 409),
      },
    },
    async (request) => presentInvoice(await invoices.redraft(request.params.id)),
  );

  r.get(
    "/v1/invoices/:id/document.html",
    {
      schema: {
        ...reader,
        summary: "The invoice as a printable HTML page",
        description:
          "Self-contained (one inline style sheet, no script); prints on A4. A draft says it is a draft and has no number.",
        params: IdParams,
        response: answers(200, C.InvoiceHtml, 404),
      },
    },
    async (request, reply) => {
      const html = invoiceHtml(await invoices.document(request.params.id, request.principal));
      return reply
        .type("text/html; charset=utf-8")
        .header(
          "content-security-policy",
          `default-src 'none'; style-src ${INVOICE_STYLE_HASH}; frame-ancestors 'self'`,
        )
        .header("x-content-type-options", "nosniff")
        .send(html);
    },
  );

  r.get(
    "/v1/invoices/:id/document.pdf",
    {
      schema: {
        ...reader,
        summary: "The invoice as a PDF (A4)",
        description: "Rendered by the server; the same content as the HTML page.",
        params: IdParams,
        response: answers(200, C.InvoicePdf, 404),
      },
    },
    async (request, reply) => {
      const doc = await invoices.document(request.params.id, request.principal);
      const pdf = await invoicePdf(doc, new Date());
      const name = `invoice-${doc.number ?? `draft-${doc.period.key}`}.pdf`.replace(/[^A-Za-z0-9._-]/g, "_");
      return reply
        .type("application/pdf")
        .header("content-disposition", `attachment; filename="${name}"`)
        .header("x-content-type-options", "nosniff")
        .send(pdf);
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
      const by = { actor: actorOf(request, "api").actor, ...request.body };
      return presentInvoice(await invoices.void(request.params.id, by));
    },
  );
}
