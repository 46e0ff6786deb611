// What the gateway calls: the authorize decision before a call is proxied, and the original
// plugin's /api/user-metadata and /api/tdl-matrix answers for the caller Kong authenticated.
// Kong proves itself with the shared secret (INGEST_SECRET); only then are its X-Consumer-*
// headers believed. A consumer's own API key also works and always means that consumer.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { authorize } from "../authorize/authorize.service.ts";
import { loadGatewayConsumer, type GatewayConsumer, type MetadataCache } from "../authorize/metadata-cache.ts";
import type { MeasurePool } from "../authorize/measure-pool.ts";
import type { TdlCounter } from "../authorize/tdl-counter.ts";
import type { Config } from "../config.ts";
import type { PrismaClient } from "../db/client.ts";
import { AppError, notFound, validationFailed } from "../domain/errors.ts";
import { rateAt } from "../domain/pricing.ts";
import { inSlotOrder } from "../domain/tdl.ts";
import { presentedSecret, secretMatches } from "../http/auth.ts";
import { consumerOfApiKey } from "../http/principal.ts";
import { observedMatrix } from "../usage/usage.service.ts";
import { dayOf } from "./day-query.ts";
import { AuthorizeBodySchema } from "./schemas/gateway.ts";
import { validate } from "./validate.ts";

export type GatewayDeps = { config: Config; db: PrismaClient; cache: MetadataCache; counter: TdlCounter; measurer: MeasurePool; now?: () => Date };

function fromKong(request: FastifyRequest, config: Config): boolean {
  return secretMatches(presentedSecret(request), config.ingest.secret);
}

/** The consumer Kong authenticated (its X-Consumer-* headers), or the owner of a consumer key. */
async function callerOf(request: FastifyRequest, deps: GatewayDeps): Promise<GatewayConsumer | null> {
  if (fromKong(request, deps.config)) {
    const h = (name: string) => {
      const v = request.headers[name];
      return (Array.isArray(v) ? v[0] : v) || undefined;
    };
    const ref = { kongId: h("x-consumer-id"), username: h("x-consumer-username"), customId: h("x-consumer-custom-id") };
    if (!ref.kongId && !ref.username && !ref.customId) {
      throw validationFailed("x-consumer-id: Kong forwarded no authenticated consumer (is key-auth on this route?)", "x-consumer-id");
    }
    return deps.cache.lookup(ref);
  }
  const consumerId = await consumerOfApiKey(deps.db, presentedSecret(request));
  if (consumerId) return loadGatewayConsumer(deps.db, { id: consumerId });
  throw new AppError("unauthorized", "missing or wrong gateway secret or consumer key in the Authorization header", { field: "authorization" });
}

async function configuredCaller(request: FastifyRequest, deps: GatewayDeps): Promise<GatewayConsumer> {
  const c = await callerOf(request, deps);
  if (!c?.configured) throw notFound("no metadata for this consumer");
  return c;
}

/**
 * The original plugin's answer, field for field. Prices are JSON numbers written as exact decimal
 * literals (0.000000083), so nothing passes through a binary float on our side.
 */
function seedMetadataJson(c: GatewayConsumer, now: Date): string {
  const rate = rateAt(c.rates, now);
  const head = JSON.stringify({
    id: c.externalId,
    provider: c.providerName,
    tags: c.tags,
    tdl_matrix: inSlotOrder(c.limits.tdlMatrix),
    capabilities: c.limits.capabilities,
    max_input_tokens: c.limits.maxInputTokens,
    max_output_tokens: c.limits.maxOutputTokens,
  });
  const price = (d: { toFixed(): string } | undefined) => d?.toFixed() ?? "null";
  return `${head.slice(0, -1)},"input_cost_per_token":${price(rate?.inputCostPerToken)},"output_cost_per_token":${price(rate?.outputCostPerToken)}}`;
}

export async function gatewayRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  const { config, db } = deps;

  app.post("/v1/gateway/authorize", { bodyLimit: config.ingest.bodyLimitBytes }, async (request) => {
    if (!fromKong(request, config)) {
      throw new AppError("unauthorized", "missing or wrong gateway secret in the Authorization header", { field: "authorization" });
    }
    const sizeBytes = Number(request.headers["content-length"] ?? Number.POSITIVE_INFINITY);
    return authorize({ ...validate(AuthorizeBodySchema, request.body), sizeBytes }, deps);
  });

  app.get("/api/user-metadata", async (request, reply) => {
    const c = await configuredCaller(request, deps);
    return reply.type("application/json; charset=utf-8").send(seedMetadataJson(c, deps.now?.() ?? new Date()));
  });

  app.get("/api/tdl-matrix", async (request) => {
    const c = await configuredCaller(request, deps);
    const date = dayOf(request.query, config.billing.timeZone);
    return {
      id: c.externalId,
      date,
      time_zone: config.billing.timeZone,
      tdl_matrix: inSlotOrder(c.limits.tdlMatrix),
      observed_tdl_matrix: await observedMatrix(db, c.id, date),
    };
  });
}
