// Who is calling the API: the operator (admin key) or one consumer (its own API key). A consumer
// may read only its own usage and invoices; everything else is the operator's.
import { createHash, randomBytes } from "node:crypto";
import type { FastifyRequest } from "fastify";
import type { PrismaClient } from "../db/client.ts";
import { AppError } from "../domain/errors.ts";
import { presentedSecret, secretMatches } from "./auth.ts";

type Principal = { kind: "admin" } | { kind: "consumer"; consumerId: string };

declare module "fastify" {
  interface FastifyRequest {
    principal?: Principal;
  }
}

const KEY_PREFIX = "tmk_";
const hashApiKey = (key: string) => createHash("sha256").update(key).digest("hex");

export function newApiKey(): { key: string; prefix: string; hash: string } {
  const key = `${KEY_PREFIX}${randomBytes(24).toString("base64url")}`;
  return { key, prefix: key.slice(0, 10), hash: hashApiKey(key) };
}

const LAST_USED_PRECISION_MS = 60_000;

/** The consumer a `tmk_` key belongs to, unless the key is unknown or revoked; notes when it was used. */
export async function consumerOfApiKey(db: PrismaClient, given: string | undefined): Promise<string | undefined> {
  if (!given?.startsWith(KEY_PREFIX)) return undefined;
  const row = await db.consumerApiKey.findUnique({ where: { hash: hashApiKey(given) } });
  if (!row || row.revokedAt) return undefined;
  if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > LAST_USED_PRECISION_MS) {
    // best effort: a failed update must not fail the request it records
    await db.consumerApiKey.update({ where: { id: row.id }, data: { lastUsedAt: new Date() } }).catch(() => {});
  }
  return row.consumerId;
}

export function authenticate(adminKey: string, db: PrismaClient) {
  return async (request: FastifyRequest) => {
    const given = presentedSecret(request);
    if (secretMatches(given, adminKey)) {
      request.principal = { kind: "admin" };
      return;
    }
    const consumerId = await consumerOfApiKey(db, given);
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

/**
 * A consumer credential may act only on its own consumer. Another consumer's data answers 404,
 * exactly as a consumer that does not exist, so a key cannot probe who else is billed.
 */
export function assertOwnConsumer(request: FastifyRequest, consumerId: string, ref: string = consumerId) {
  const p = request.principal;
  if (p?.kind === "consumer" && p.consumerId !== consumerId)
    throw new AppError("not_found", `consumer ${ref} not found`);
}
