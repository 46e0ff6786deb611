// Who is calling the API: the operator (admin key) or one consumer (its own API key). A consumer
// may read only its own usage and invoices; everything else is the operator's.
import type { FastifyRequest } from "fastify";
import type { ApiKeys } from "../consumers/api-keys.ts";
import { AppError } from "../domain/errors.ts";
import type { Viewer } from "../domain/viewer.ts";
import { presentedSecret, secretMatches } from "./auth.ts";

type Principal = Viewer;

declare module "fastify" {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export function authenticate(adminKey: string, keys: ApiKeys) {
  return async (request: FastifyRequest) => {
    const given = presentedSecret(request);
    if (secretMatches(given, adminKey)) {
      request.principal = { kind: "admin" };
      return;
    }
    const consumerId = await keys.ownerOf(given);
    if (consumerId) {
      request.principal = { kind: "consumer", consumerId };
      return;
    }
    throw new AppError("unauthorized", "missing or wrong API key in the Authorization header", {
      field: "authorization",
    });
  };
}

export async function requireAdmin(request: FastifyRequest) {
  if (request.principal?.kind !== "admin") throw new AppError("forbidden", "this route needs the admin API key");
}
