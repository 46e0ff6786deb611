// Consumers and their metadata (operator). Prices are the rate in force now; see rates.routes.ts
// for the rate history and api-keys.routes.ts for a consumer's own credentials.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { ConsumerBodySchema, NewConsumerSchema } from "../../consumers/consumer.schema.ts";
import type { Consumers, ConsumerWithRates } from "../../consumers/consumers.ts";
import { pageLimit, queryFlag, safeText, uuid } from "../../domain/field-types.ts";
import { answers, SECURITY } from "../openapi.ts";
import { requireAdmin } from "../principal.ts";
import { actorOf, ActorHeaders, ConsumerParams } from "./common.schemas.ts";
import { presentConsumer } from "./consumers.presenter.ts";
import * as C from "../contract/consumers.ts";

const ListQuery = z
  .object({
    configured: queryFlag.optional(),
    q: safeText(200, 1)
      .optional()
      .meta({ description: "Only consumers whose username, custom id or Kong id contains this, in any case." }),
    limit: pageLimit(500, 100),
    after: uuid.optional().meta({ description: "next_after of the previous page." }),
  })
  .strict();

const admin = { tags: ["consumers"], security: SECURITY.admin };

export async function consumerRoutes(app: FastifyInstance, { consumers }: { consumers: Consumers }): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const present = (c: ConsumerWithRates) => presentConsumer(c.consumer, c.rates, c.plan);

  r.post(
    "/v1/consumers",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Create a consumer",
        headers: ActorHeaders,
        body: NewConsumerSchema,
        response: answers(201, C.Consumer, 400, 403, 409),
      },
    },
    async (request, reply) => {
      return reply.code(201).send(present(await consumers.create(request.body, actorOf(request, "api"))));
    },
  );

  r.get(
    "/v1/consumers",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "List consumers",
        querystring: ListQuery,
        response: answers(200, C.ConsumerList, 403),
      },
    },
    async (request) => {
      const { q, ...rest } = request.query;
      const { page, next } = await consumers.list({ ...rest, search: q });
      return { consumers: page.map(present), next_after: next };
    },
  );

  r.get(
    "/v1/consumers/:consumer",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Show a consumer",
        params: ConsumerParams,
        response: answers(200, C.Consumer, 403, 404),
      },
    },
    async (request) => present(await consumers.show(request.params.consumer)),
  );

  r.patch(
    "/v1/consumers/:consumer",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Change a consumer",
        description:
          "Changes only the fields given. A change of identity (a rename) or metadata is recorded as a metadata version.",
        params: ConsumerParams,
        headers: ActorHeaders,
        body: ConsumerBodySchema,
        response: answers(200, C.Consumer, 403, 404, 409),
      },
    },
    async (request) => present(await consumers.update(request.params.consumer, request.body, actorOf(request, "api"))),
  );

  r.get(
    "/v1/consumers/:consumer/metadata/versions",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "A consumer's metadata versions: who changed what, when",
        params: ConsumerParams,
        response: answers(200, C.MetadataVersions, 403, 404),
      },
    },
    async (request) => {
      const { consumer, versions } = await consumers.versions(request.params.consumer);
      return { consumer_id: consumer.id, metadata_version: consumer.metadataVersion, versions };
    },
  );
}
