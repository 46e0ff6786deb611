// Every success answer is checked against its route's documented schema before it is sent. Outside
// production an answer that carries a field the schema does not describe is refused too, so the
// test suite proves the OpenAPI document describes what the API really answers; in production such
// a field is dropped rather than sent undocumented.
import type { FastifySerializerCompiler } from "fastify/types/schema.ts";
import { z } from "zod";

class ResponseContractError extends Error {
  constructor(route: string, detail: string) {
    super(`${route}: the answer does not match its documented schema: ${detail}`);
    this.name = "ResponseContractError";
  }
}

const plain = (v: unknown): unknown => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

/** Paths present in `sent` that the schema's output dropped, at any depth. */
function dropped(sent: unknown, kept: unknown, path = ""): string[] {
  if (Array.isArray(sent) && Array.isArray(kept)) return sent.flatMap((v, i) => dropped(v, kept[i], `${path}[${i}]`));
  if (sent === null || typeof sent !== "object" || kept === null || typeof kept !== "object") return [];
  const k = kept as Record<string, unknown>;
  return Object.entries(sent).flatMap(([key, v]) =>
    key in k ? dropped(v, k[key], path ? `${path}.${key}` : key) : [path ? `${path}.${key}` : key],
  );
}

export function contractSerializer(strict: boolean): FastifySerializerCompiler<z.ZodType> {
  return ({ schema, method, url }) =>
    (data) => {
      const route = `${method} ${url}`;
      const result = z.safeEncode(schema, data);
      if (!result.success) throw new ResponseContractError(route, z.prettifyError(result.error));
      const json = JSON.stringify(result.data);
      if (strict) {
        const extra = dropped(plain(data), json === undefined ? undefined : JSON.parse(json));
        if (extra.length > 0) throw new ResponseContractError(route, `undocumented fields ${extra.join(", ")}`);
      }
      return json;
    };
}
