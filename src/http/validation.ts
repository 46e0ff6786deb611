// Route schemas are zod schemas: this compiler checks params, query, headers and body with them
// and hands the handler the parsed values. A refusal keeps zod's issue path, so the error handler
// can name the field: "metadata.input_cost_per_token", "query.date", "path.id", "header.x-actor".
import type { FastifySchemaCompiler } from "fastify";
import type { z } from "zod";

const PREFIX: Record<string, string> = { body: "", querystring: "query", params: "path", headers: "header" };

export class RequestValidationError extends Error {
  readonly statusCode = 400;
  /** Set by Fastify: body, querystring, params or headers. */
  validationContext?: string;
  constructor(readonly issues: readonly z.core.$ZodIssue[]) {
    super(issues[0]?.message ?? "invalid request");
    this.name = "RequestValidationError";
  }

  /** The first problem's field, dotted, with the part of the request it is in. */
  get field(): string {
    const issue = this.issues[0];
    const unknownKey = issue?.code === "unrecognized_keys" ? issue.keys.slice(0, 1) : [];
    const path = [PREFIX[this.validationContext ?? "body"], ...(issue?.path ?? []).map(String), ...unknownKey];
    return path.filter(Boolean).join(".") || "body";
  }
}

export const validatorCompiler: FastifySchemaCompiler<z.ZodType> =
  ({ schema, httpPart }) =>
  (data: unknown) => {
    // Fastify passes null for a missing body: check it as an empty object, so each required field is named
    const result = schema.safeParse(data ?? (httpPart === "body" ? {} : data));
    return result.success ? { value: result.data } : { error: new RequestValidationError(result.error.issues) };
  };
