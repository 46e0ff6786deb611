// Consumers and their metadata (operator). Prices are the rate in force now; see rates.routes.ts
// for the rate history and api-keys.routes.ts for a consumer's own credentials.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import type { Config } from "../../config.ts";
import { rateHistories } from "../../consumers/consumer.repository.ts";
import { ConsumerBodySchema } from "../../consumers/consumer.schema.ts";
import { createConsumer, resolveConsumer, updateConsumer } from "../../consumers/consumer.service.ts";
import { listVersions } from "../../consumers/metadata.ts";
import type { PrismaClient } from "../../db/client.ts";
import { pageLimit, queryFlag, uuid } from "../../domain/field-types.ts";
import { answers, SECURITY } from "../openapi.ts";
import { requireAdmin } from "../principal.ts";
import { actorOf, ActorHeaders, ConsumerParams } from "./common.schemas.ts";
import { presentConsumer } from "./consumers.presenter.ts";
import * as C from "../contract/consumers.ts";

export type ConsumerRouteDeps = {
  config: Config;
  db: PrismaClient;
  metadataChanged: (consumerIds: string[]) => Promise<void>;
};

const ListQuery = z
  .object({
    configured: queryFlag.optional(),
    limit: pageLimit(500, 100),
    after: uuid.optional().meta({ description: "next_after of the previous page." }),
  })
  .strict();

const admin = { tags: ["consumers"], security: SECURITY.admin };

export async function consumerRoutes(
  app: FastifyInstance,
  { config, db, metadataChanged }: ConsumerRouteDeps,
): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const present = async (row: Parameters<typeof presentConsumer>[0]) =>
    presentConsumer(row, (await rateHistories(db, [row.id])).get(row.id) ?? []);

  r.post(
    "/v1/consumers",
    {
      onRequest: requireAdmin,
      schema: {
        ...admin,
        summary: "Create a consumer",
        headers: ActorHeaders,
        body: ConsumerBodySchema,
        response: answers(201, C.Consumer, 403, 409),
      },
    },
    async (request, reply) => {
      const { consumer } = await createConsumer(db, request.body, config.metering, actorOf(request, "api"));
      await metadataChanged([consumer.id]);
      return reply.code(201).send(await present(consumer));
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
      const q = request.query;
      const rows = await db.consumer.findMany({
        where: { configured: q.configured, id: q.after ? { gt: q.after } : undefined },
        orderBy: { id: "asc" },
        take: q.limit,
      });
      const rates = await rateHistories(
        db,
        rows.map((row) => row.id),
      );
      return {
        consumers: rows.map((row) => presentConsumer(row, rates.get(row.id) ?? [])),
        next_after: rows.length === q.limit ? rows.at(-1)!.id : null,
      };
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
    async (request) => present(await resolveConsumer(db, request.params.consumer)),
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
    async (request) => {
      const { consumer, changed } = await updateConsumer(
        db,
        request.params.consumer,
        request.body,
        actorOf(request, "api"),
      );
      if (changed.length > 0) await metadataChanged([consumer.id]);
      return present(consumer);
    },
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
      const c = await resolveConsumer(db, request.params.consumer);
      return { consumer_id: c.id, metadata_version: c.metadataVersion, versions: await listVersions(db, c.id) };
    },
  );
}
