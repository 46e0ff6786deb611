// Webhook endpoints (operator): add one (its signing secret is shown once), list, disable; the
// delivery log of an endpoint (attempts, status, next retry); and the alerts raised.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { ALERT_TYPES } from "../../alerts/alert-types.ts";
import type { WebhookEndpoints } from "../../alerts/webhook-endpoints.ts";
import { pageLimit, safeText } from "../../domain/field-types.ts";
import { answers, SECURITY } from "../openapi.ts";
import { requireAdmin } from "../principal.ts";
import { IdParams } from "./common.schemas.ts";
import { presentAlert, presentDelivery, presentEndpoint } from "./webhooks.presenter.ts";
import * as C from "../contract/webhooks.ts";

const endpointUrl = z
  .string()
  .max(2000)
  .refine((s) => URL.canParse(s), "must be an absolute URL")
  .refine((s) => URL.canParse(s) && ["http:", "https:"].includes(new URL(s).protocol), "must be http or https")
  // credentials in a URL would be stored and logged in clear; the signature authenticates us instead
  .refine(
    (s) => URL.canParse(s) && !new URL(s).username && !new URL(s).password,
    "must not carry a user name or password",
  );

const EndpointSchema = z
  .object({
    url: endpointUrl,
    event_types: z
      .array(z.enum(ALERT_TYPES))
      .max(ALERT_TYPES.length)
      .default([])
      .meta({ description: "Alert types sent here; empty for all." }),
    description: safeText(500).optional(),
  })
  .strict();

const DeliveriesQuery = z
  .object({ limit: pageLimit(500, 100), status: z.enum(["pending", "delivered", "failed"]).optional() })
  .strict();
const AlertsQuery = z.object({ limit: pageLimit(500, 100), type: z.enum(ALERT_TYPES).optional() }).strict();

const admin = { tags: ["alerts"], security: SECURITY.admin };

export async function webhookRoutes(app: FastifyInstance, { webhooks }: { webhooks: WebhookEndpoints }): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    "/v1/webhook-endpoints",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Add a webhook endpoint; the answer holds its signing secret, shown only this once",
        body: EndpointSchema,
        response: answers(201, C.CreatedEndpoint, 400, 403, 409),
      },
    },
    async (request, reply) => {
      const { url, event_types, description } = request.body;
      const { endpoint, secret } = await webhooks.add({ url, eventTypes: event_types, description });
      return reply.code(201).send({ ...presentEndpoint(endpoint), secret });
    },
  );

  r.get(
    "/v1/webhook-endpoints",
    {
      onRequest: requireAdmin,
      schema: { ...admin, summary: "Webhook endpoints", response: answers(200, C.EndpointList, 403) },
    },
    async () => ({
      endpoints: (await webhooks.list()).map(presentEndpoint),
    }),
  );

  r.delete(
    "/v1/webhook-endpoints/:id",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Disable an endpoint: nothing more is sent to it",
        params: IdParams,
        response: answers(200, C.Endpoint, 403, 404),
      },
    },
    async (request) => presentEndpoint(await webhooks.disable(request.params.id)),
  );

  r.post(
    "/v1/webhook-endpoints/:id/test",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Send the endpoint a test event now (type webhook.test), signed and retried like any alert",
        params: IdParams,
        response: answers(202, C.TestSent, 403, 404, 409, 503),
      },
    },
    async (request, reply) => {
      const { alertId, deliveryId } = await webhooks.sendTest(request.params.id);
      return reply.code(202).send({
        alert_id: alertId,
        delivery_id: deliveryId,
        deliveries_url: `/v1/webhook-endpoints/${request.params.id}/deliveries`,
      });
    },
  );

  r.get(
    "/v1/webhook-endpoints/:id/deliveries",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "An endpoint's delivery log: each alert's attempts, status and next retry",
        params: IdParams,
        querystring: DeliveriesQuery,
        response: answers(200, C.Deliveries, 403, 404),
      },
    },
    async (request) => {
      const { endpoint, deliveries: rows } = await webhooks.deliveries(request.params.id, request.query);
      return {
        endpoint: presentEndpoint(endpoint),
        deliveries: rows.map(presentDelivery),
      };
    },
  );

  r.get(
    "/v1/alerts",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Alerts raised, newest first, with their deliveries",
        querystring: AlertsQuery,
        response: answers(200, C.AlertList, 403),
      },
    },
    async (request) => {
      const rows = await webhooks.alerts(request.query);
      return {
        alerts: rows.map(presentAlert),
      };
    },
  );
}
