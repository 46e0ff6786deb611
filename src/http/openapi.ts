// The OpenAPI 3.1 document, made from the route schemas themselves (/openapi.json), and an
// interactive page over it (/docs). Every route declares the refusals it can give in the one
// error shape below.
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import { createRequire } from "node:module";
import { jsonSchemaTransform, jsonSchemaTransformObject } from "fastify-type-provider-zod";
import { z } from "zod";
import { STATUS, type ErrorCode } from "../domain/errors.ts";
import { contractSerializer } from "./response-contract.ts";
import { validatorCompiler } from "./validation.ts";

export const PACKAGE_VERSION = (createRequire(import.meta.url)("../../package.json") as { version: string }).version;

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(STATUS) as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
      field: z
        .string()
        .optional()
        .meta({ description: "The field refused: body fields by their path, others as query.x, path.x or header.x." }),
      requestId: z.string(),
    }),
  })
  .meta({ id: "Error", description: "Every refusal and failure has this shape." });

const MEANING: Record<number, string> = {
  400: "The request is malformed or a field is refused (the field is named).",
  401: "Missing or wrong credential.",
  403: "The credential may not use this route.",
  404: "No such resource (or not the caller's).",
  409: "The request conflicts with the current state (the field is named).",
  413: "The body is larger than allowed.",
  415: "The body's content type is not accepted.",
  429: "Too many requests with this key, or with wrong keys from this address; the Retry-After header says when to retry.",
  503: "A dependency (Kafka, Redis or PostgreSQL) is unavailable; retry later.",
};

/**
 * A route's documented answers: its success status with the body's schema (src/http/contract),
 * then its refusals, all in the error shape (400 and 401 apply to every route).
 */
export function answers<S extends z.ZodType>(
  success: 200 | 201 | 202 | 204,
  body: S,
  ...refused: Array<keyof typeof MEANING>
) {
  return {
    [success]: body,
    ...Object.fromEntries([...new Set([400, 401, ...refused])].map((s) => [s, ErrorBody.describe(MEANING[s]!)])),
  };
}

/** Credentials, by who holds them. */
export const SECURITY = {
  admin: [{ adminKey: [] }],
  reader: [{ adminKey: [] }, { consumerKey: [] }],
  gateway: [{ gatewaySecret: [] }],
  caller: [{ gatewaySecret: [] }, { consumerKey: [] }],
} as const;

const DESCRIPTION = `Usage metering and billing for an LLM gateway built on Kong.

Prices and amounts are decimal strings. Every refusal is a 4xx with one shape, \`{ "error": { "code", "message", "field", "requestId" } }\`,
naming the field that was refused.`;

/** `strictAnswers`: refuse an answer with fields its schema does not describe (outside production). */
export async function registerOpenApi(app: FastifyInstance, version: string, strictAnswers: boolean): Promise<void> {
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(contractSerializer(strictAnswers));
  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: { title: "tokenmeter", version, description: DESCRIPTION },
      components: {
        securitySchemes: {
          adminKey: { type: "http", scheme: "bearer", description: "The operator's ADMIN_API_KEY." },
          consumerKey: {
            type: "http",
            scheme: "bearer",
            description: "A consumer's own key (tmk_...), from POST /v1/consumers/{consumer}/api-keys.",
          },
          gatewaySecret: {
            type: "http",
            scheme: "bearer",
            description: "Kong's shared INGEST_SECRET (Bearer, or Basic with it as the password).",
          },
        },
      },
      tags: [
        { name: "consumers", description: "Consumers, their metadata, rates and keys (operator)." },
        {
          name: "prices",
          description: "Price books per model and token type, shared by consumers as plans (operator).",
        },
        { name: "usage", description: "Usage and TDL matrices (operator, or a consumer for its own)." },
        { name: "invoices", description: "Invoices and billing runs." },
        {
          name: "credits",
          description:
            "Prepaid credit: grants, balance, ledger and prepaid mode (operator, or a consumer for its own).",
        },
        { name: "gateway", description: "What Kong and the gateway plugin call." },
        {
          name: "dead-letters",
          description: "Entries that could not be metered, for inspection and replay (operator).",
        },
        {
          name: "reports",
          description: "Drift, lineage from invoice lines to events and prices, flagged events, FOCUS export.",
        },
        { name: "imports", description: "Kong declarative config import (operator)." },
        { name: "ops", description: "Liveness, readiness and metrics." },
      ],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(fastifySwaggerUi, { routePrefix: "/docs" });
  app.get("/openapi.json", { schema: { hide: true } }, async () => app.swagger());
}
