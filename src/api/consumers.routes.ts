// Admin API for consumers, their metadata and rate history.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import type { Config } from "../config.ts";
import { rateFromRow, rateHistories } from "../consumers/consumer.repository.ts";
import { addRate, createConsumer, deleteFutureRate, resolveConsumer, updateConsumer } from "../consumers/consumer.service.ts";
import { listVersions, type Actor } from "../consumers/metadata.ts";
import type { PrismaClient } from "../db/client.ts";
import { notFound } from "../domain/errors.ts";
import { presentConsumer, presentRate } from "./presenters.ts";
import { ConsumerBodySchema, CreateRateSchema } from "./schemas/consumer.ts";
import { validate } from "./validate.ts";
import { newApiKey, requireAdmin } from "../http/principal.ts";

export type ApiDeps = { config: Config; db: PrismaClient; metadataChanged?: (consumerIds: string[]) => Promise<void> };

/** Who is changing metadata: the name the caller gives in X-Actor, else the credential kind. */
export function actorOf(request: FastifyRequest, source: Actor["source"]): Actor {
  const named = request.headers["x-actor"];
  const name = typeof named === "string" && named.trim() ? named.trim().slice(0, 200) : undefined;
  return { actor: name ?? request.principal?.kind ?? "unknown", source };
}

const ListQuery = z
  .object({
    configured: z.enum(["true", "false"]).optional(),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    after: z.string().uuid().optional(),
  })
  .strict();

type Params = { consumer: string };
const IdParam = z.object({ id: z.string().uuid() });

const presentApiKey = (k: { id: string; prefix: string; createdAt: Date; lastUsedAt: Date | null; revokedAt: Date | null }) => ({
  id: k.id,
  prefix: k.prefix,
  created_at: k.createdAt.toISOString(),
  last_used_at: k.lastUsedAt?.toISOString() ?? null,
  revoked_at: k.revokedAt?.toISOString() ?? null,
});

export async function consumerRoutes(app: FastifyInstance, { config, db, metadataChanged }: ApiDeps): Promise<void> {
  const changed = async (id: string) => metadataChanged?.([id]);
  const present = async (row: Parameters<typeof presentConsumer>[0]) =>
    presentConsumer(row, (await rateHistories(db, [row.id])).get(row.id) ?? []);

  app.post("/v1/consumers", { preHandler: requireAdmin }, async (request, reply) => {
    const input = validate(ConsumerBodySchema, request.body);
    const { consumer } = await createConsumer(db, input, config.metering, actorOf(request, "api"));
    await changed(consumer.id);
    return reply.code(201).send(await present(consumer));
  });

  app.get("/v1/consumers", { preHandler: requireAdmin }, async (request) => {
    const q = validate(ListQuery, request.query, "query");
    const rows = await db.consumer.findMany({
      where: { configured: q.configured === undefined ? undefined : q.configured === "true", id: q.after ? { gt: q.after } : undefined },
      orderBy: { id: "asc" },
      take: q.limit,
    });
    const rates = await rateHistories(db, rows.map((r) => r.id));
    return { consumers: rows.map((r) => presentConsumer(r, rates.get(r.id) ?? [])), next_after: rows.length === q.limit ? rows.at(-1)!.id : null };
  });

  app.get<{ Params: Params }>("/v1/consumers/:consumer", { preHandler: requireAdmin }, async (request) =>
    present(await resolveConsumer(db, request.params.consumer)),
  );

  app.patch<{ Params: Params }>("/v1/consumers/:consumer", { preHandler: requireAdmin }, async (request) => {
    const input = validate(ConsumerBodySchema, request.body);
    const { consumer, changed: fieldsChanged } = await updateConsumer(db, request.params.consumer, input, actorOf(request, "api"));
    if (fieldsChanged.length > 0) await changed(consumer.id);
    return present(consumer);
  });

  app.get<{ Params: Params }>("/v1/consumers/:consumer/rates", { preHandler: requireAdmin }, async (request) => {
    const c = await resolveConsumer(db, request.params.consumer);
    return { consumer_id: c.id, rates: ((await rateHistories(db, [c.id])).get(c.id) ?? []).map(presentRate) };
  });

  app.post<{ Params: Params }>("/v1/consumers/:consumer/rates", { preHandler: requireAdmin }, async (request, reply) => {
    const input = validate(CreateRateSchema, request.body);
    const rate = await addRate(db, request.params.consumer, input, actorOf(request, "rates"));
    await changed(rate.consumerId);
    return reply.code(201).send(presentRate(rateFromRow(rate)));
  });

  app.get<{ Params: Params }>("/v1/consumers/:consumer/metadata/versions", { preHandler: requireAdmin }, async (request) => {
    const c = await resolveConsumer(db, request.params.consumer);
    return { consumer_id: c.id, metadata_version: c.metadataVersion, versions: await listVersions(db, c.id) };
  });

  // A consumer's own credential; the key is shown once and only its hash is kept.
  app.post<{ Params: Params }>("/v1/consumers/:consumer/api-keys", { preHandler: requireAdmin }, async (request, reply) => {
    const c = await resolveConsumer(db, request.params.consumer);
    const { key, prefix, hash } = newApiKey();
    const row = await db.consumerApiKey.create({ data: { consumerId: c.id, prefix, hash } });
    return reply.code(201).send({ id: row.id, consumer_id: c.id, prefix, key, created_at: row.createdAt.toISOString() });
  });

  app.get<{ Params: Params }>("/v1/consumers/:consumer/api-keys", { preHandler: requireAdmin }, async (request) => {
    const c = await resolveConsumer(db, request.params.consumer);
    const keys = await db.consumerApiKey.findMany({ where: { consumerId: c.id }, orderBy: { createdAt: "asc" } });
    return { consumer_id: c.id, api_keys: keys.map(presentApiKey) };
  });

  app.delete<{ Params: Params & { id: string } }>("/v1/consumers/:consumer/api-keys/:id", { preHandler: requireAdmin }, async (request) => {
    const { id } = validate(IdParam, { id: request.params.id }, "path");
    const c = await resolveConsumer(db, request.params.consumer);
    const key = await db.consumerApiKey.findFirst({ where: { id, consumerId: c.id } });
    if (!key) throw notFound(`no API key ${id} for this consumer`);
    // revoking twice keeps the first time
    const revoked = key.revokedAt ? key : await db.consumerApiKey.update({ where: { id }, data: { revokedAt: new Date() } });
    return presentApiKey(revoked);
  });

  app.delete<{ Params: Params & { id: string } }>("/v1/consumers/:consumer/rates/:id", { preHandler: requireAdmin }, async (request, reply) => {
    const { id } = validate(IdParam, { id: request.params.id }, "path");
    const consumerId = await deleteFutureRate(db, request.params.consumer, id, actorOf(request, "rates"));
    await changed(consumerId);
    return reply.code(204).send();
  });
}
