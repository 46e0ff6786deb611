// What the gateway calls: the authorize decision before a call is proxied, and the original
// plugin's /api/user-metadata and /api/tdl-matrix answers for the caller Kong authenticated.
// Kong proves itself with the shared secret (INGEST_SECRET); only then are its X-Consumer-*
// headers believed. A consumer's own API key also works and always means that consumer.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { authorize, type AuthorizeDeps } from "../../authorize/authorize.service.ts";
import type { GatewayConsumer } from "../../authorize/metadata-cache.ts";
import type { ApiKeys } from "../../consumers/api-keys.ts";
import type { Config } from "../../config.ts";
import { AppError, notFound, validationFailed } from "../../domain/errors.ts";
import { rateAt } from "../../domain/pricing.ts";
import { inSlotOrder } from "../../domain/tdl.ts";
import { presentedSecret, secretMatches } from "../auth.ts";
import { answers, SECURITY } from "../openapi.ts";
import type { Usage } from "../../usage/usage.ts";
import { DayQuery, dayOrToday } from "./common.schemas.ts";
import { AuthorizeBodySchema, KongConsumerHeaders } from "./gateway.schemas.ts";
import * as C from "../contract/operations.ts";

type GatewayDeps = AuthorizeDeps & { keys: ApiKeys; usage: Usage };

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
      throw validationFailed(
        "x-consumer-id: Kong forwarded no authenticated consumer (is key-auth on this route?)",
        "x-consumer-id",
      );
    }
    return deps.cache.lookup(ref);
  }
  const consumerId = await deps.keys.ownerOf(presentedSecret(request));
  if (consumerId) return deps.cache.byId(consumerId);
  throw new AppError("unauthorized", "missing or wrong gateway secret or consumer key in the Authorization header", {
    field: "authorization",
  });
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

const gateway = { tags: ["gateway"] };

export async function gatewayRoutes(app: FastifyInstance, deps: GatewayDeps): Promise<void> {
  const { config } = deps;
  const r = app.withTypeProvider<ZodTypeProvider>();
  // the secret is checked before the body is read and validated
  const requireKong = async (request: FastifyRequest) => {
    if (!fromKong(request, config)) {
      throw new AppError("unauthorized", "missing or wrong gateway secret in the Authorization header", {
        field: "authorization",
      });
    }
  };

  r.post(
    "/v1/gateway/authorize",
    {
      bodyLimit: config.ingest.bodyLimitBytes,
      onRequest: requireKong,
      schema: {
        ...gateway,
        security: SECURITY.gateway,
        summary: "Decide whether Kong may proxy a call",
        description:
          "Checks the consumer's capabilities, token limits and TDL matrix for the call about to be proxied.",
        body: AuthorizeBodySchema,
        response: answers(200, C.AuthorizeDecision, 413),
      },
    },
    async (request) => {
      const sizeBytes = Number(request.headers["content-length"] ?? Number.POSITIVE_INFINITY);
      return authorize({ ...request.body, sizeBytes }, deps);
    },
  );

  r.get(
    "/api/user-metadata",
    {
      schema: {
        ...gateway,
        security: SECURITY.caller,
        summary: "The caller's metadata, as the gateway plugin reads it",
        description:
          "With the gateway secret, the consumer Kong authenticated (X-Consumer-* headers); with a consumer key, its owner.",
        headers: KongConsumerHeaders,
        response: answers(200, C.UserMetadata, 404),
      },
    },
    async (request, reply) => {
      const c = await configuredCaller(request, deps);
      return reply.type("application/json; charset=utf-8").send(seedMetadataJson(c, deps.now?.() ?? new Date()));
    },
  );

  r.get(
    "/api/tdl-matrix",
    {
      schema: {
        ...gateway,
        security: SECURITY.caller,
        summary: "The caller's TDL matrix: allowed and observed for a local day",
        headers: KongConsumerHeaders,
        querystring: DayQuery,
        response: answers(200, C.GatewayTdlMatrix, 404),
      },
    },
    async (request) => {
      const c = await configuredCaller(request, deps);
      const date = dayOrToday(request.query.date, config.billing.timeZone);
      return {
        id: c.externalId,
        date,
        time_zone: config.billing.timeZone,
        tdl_matrix: inSlotOrder(c.limits.tdlMatrix),
        observed_tdl_matrix: await deps.usage.observedMatrix(c.id, date),
      };
    },
  );
}
