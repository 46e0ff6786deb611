// A consumer's own credentials (operator): issue one (shown once; only its hash is kept), list
// them with when each was last used, revoke one.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import type { ApiKeys } from "../../consumers/api-keys.ts";
import * as C from "../contract/consumers.ts";
import { answers, SECURITY } from "../openapi.ts";
import { requireAdmin } from "../principal.ts";
import { ConsumerIdParams, ConsumerParams } from "./common.schemas.ts";
import { presentApiKey } from "./consumers.presenter.ts";

const admin = { tags: ["consumers"], security: SECURITY.admin };

export async function apiKeyRoutes(app: FastifyInstance, { keys }: { keys: ApiKeys }): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    "/v1/consumers/:consumer/api-keys",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Issue a consumer key (shown once)",
        params: ConsumerParams,
        response: answers(201, C.IssuedApiKey, 403, 404),
      },
    },
    async (request, reply) => {
      const k = await keys.issue(request.params.consumer);
      return reply.code(201).send({
        id: k.id,
        consumer_id: k.consumerId,
        prefix: k.prefix,
        key: k.key,
        created_at: k.createdAt.toISOString(),
      });
    },
  );

  r.get(
    "/v1/consumers/:consumer/api-keys",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "List a consumer's keys (prefix, created, last used, revoked)",
        params: ConsumerParams,
        response: answers(200, C.ApiKeyList, 403, 404),
      },
    },
    async (request) => {
      const { consumerId, keys: rows } = await keys.list(request.params.consumer);
      return { consumer_id: consumerId, api_keys: rows.map(presentApiKey) };
    },
  );

  r.delete(
    "/v1/consumers/:consumer/api-keys/:id",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Revoke a consumer key",
        params: ConsumerIdParams,
        response: answers(200, C.ApiKey, 403, 404),
      },
    },
    async (request) => presentApiKey(await keys.revoke(request.params.consumer, request.params.id)),
  );
}
