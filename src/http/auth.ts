// Shared-secret checks. Comparisons run in constant time so a caller cannot learn a secret byte by byte.
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { AppError } from "../domain/errors.ts";

const digest = (s: string) => createHash("sha256").update(s).digest();

export function secretMatches(given: string | undefined, expected: string): boolean {
  return given !== undefined && timingSafeEqual(digest(given), digest(expected));
}

/** `Authorization: Bearer <secret>`, or Basic with the secret as password (http-log's user:pass@ URL form). */
export function presentedSecret(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const [scheme, value = ""] = header.split(" ", 2);
  if (scheme?.toLowerCase() === "bearer") return value.trim();
  if (scheme?.toLowerCase() === "basic") {
    const decoded = Buffer.from(value, "base64").toString("utf8");
    return decoded.slice(decoded.indexOf(":") + 1);
  }
  return undefined;
}

function requireSecret(expected: string, what: string) {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    if (!secretMatches(presentedSecret(request), expected)) {
      throw new AppError("unauthorized", `missing or wrong ${what} in the Authorization header`, {
        field: "authorization",
      });
    }
  };
}

export const requireIngestSecret = (secret: string) => requireSecret(secret, "ingest secret");
