// Every error answer has one shape: { error: { code, message, field?, requestId } }.
// 5xx messages are not shown to the caller (they may carry internals); they are logged instead.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { AppError } from "../domain/errors.ts";
import { RequestValidationError } from "./validation.ts";

const FASTIFY_CODES: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  404: "not_found",
  413: "payload_too_large",
  415: "unsupported_media_type",
};

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | AppError | Error, request, reply) => {
    const requestId = request.id;
    if (err instanceof RequestValidationError) {
      request.log.warn({ code: "validation_failed", field: err.field }, err.message);
      return reply.code(400).send({
        error: { code: "validation_failed", message: `${err.field}: ${err.message}`, field: err.field, requestId },
      });
    }
    if (err instanceof AppError) {
      const level = err.status >= 500 ? "error" : "warn";
      request.log[level](
        { err: err.status >= 500 ? (err.cause ?? err) : undefined, code: err.code, field: err.field },
        err.message,
      );
      return reply
        .code(err.status)
        .send({ error: { code: err.code, message: err.message, field: err.field, requestId } });
    }
    const status = (err as FastifyError).statusCode;
    if (status && status >= 400 && status < 500) {
      request.log.warn({ code: (err as FastifyError).code }, err.message);
      const code = FASTIFY_CODES[status] ?? "bad_request";
      return reply.code(status).send({ error: { code, message: err.message, requestId } });
    }
    request.log.error({ err }, "unhandled error");
    return reply.code(500).send({ error: { code: "internal", message: "internal error", requestId } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: {
        code: "not_found",
        message: `no route ${request.method} ${request.url.split("?")[0]}`,
        requestId: request.id,
      },
    }),
  );
}

/** Longest path segment the router takes; longer ones are refused before any route (frameworkErrors). */
export const MAX_PARAM_LENGTH = 1024;

/** Errors the router raises before a route runs (a malformed or over-long path), in the same shape. */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const message =
    err.code === "FST_ERR_MAX_PARAM_LENGTH"
      ? `path: a path segment is longer than ${MAX_PARAM_LENGTH} characters`
      : "path: not a valid URL path";
  request.log.warn({ code: err.code }, message);
  return reply.code(400).send({ error: { code: "validation_failed", message, field: "path", requestId: request.id } });
}
