// A consumer's own credentials (operator): issue one (shown once; only its hash is kept), list
// them with when each was last used, revoke one.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { resolveConsumer } from "../../consumers/consumer.service.ts";
import type { PrismaClient } from "../../db/client.ts";
import { notFound } from "../../domain/errors.ts";
import { answers, SECURITY } from "../openapi.ts";
import { newApiKey, requireAdmin } from "../principal.ts";
import { ConsumerIdParams, ConsumerParams } from "./common.schemas.ts";
import { presentApiKey } from "./consumers.presenter.ts";
import * as C from "../contract/consumers.ts";

const admin = { tags: ["consumers"], security: SECURITY.admin };

export async function apiKeyRoutes(app: FastifyInstance, { db }: { db: PrismaClient }): Promise<void> {
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
      const c = await resolveConsumer(db, request.params.consumer);
      const { key, prefix, hash } = newApiKey();
      const row = await db.consumerApiKey.create({ data: { consumerId: c.id, prefix, hash } });
      return reply
        .code(201)
        .send({ id: row.id, consumer_id: c.id, prefix, key, created_at: row.createdAt.toISOString() });
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
      const c = await resolveConsumer(db, request.params.consumer);
      const keys = await db.consumerApiKey.findMany({ where: { consumerId: c.id }, orderBy: { createdAt: "asc" } });
      return { consumer_id: c.id, api_keys: keys.map(presentApiKey) };
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
    async (request) => {
      const { id } = request.params;
      const c = await resolveConsumer(db, request.params.consumer);
      const key = await db.consumerApiKey.findFirst({ where: { id, consumerId: c.id } });
      if (!key) throw notFound(`no API key ${id} for this consumer`);
      // revoking twice keeps the first time
      const revoked = key.revokedAt
        ? key
        : await db.consumerApiKey.update({ where: { id }, data: { revokedAt: new Date() } });
      return presentApiKey(revoked);
    },
  );
}
