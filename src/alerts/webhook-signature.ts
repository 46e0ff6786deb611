// Standard Webhooks signatures: HMAC-SHA256 over "<webhook-id>.<webhook-timestamp>.<body>" with the
// endpoint's secret (the base64 after "whsec_"), sent as "v1,<base64>" in webhook-signature.
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

const PREFIX = "whsec_";

export function newSigningSecret(): string {
  return PREFIX + randomBytes(32).toString("base64");
}

function keyOf(secret: string): Buffer {
  return Buffer.from(secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret, "base64");
}

function sign(secret: string, id: string, timestampSeconds: number, body: string): string {
  const mac = createHmac("sha256", keyOf(secret)).update(`${id}.${timestampSeconds}.${body}`).digest("base64");
  return `v1,${mac}`;
}

export type SignedHeaders = { "webhook-id": string; "webhook-timestamp": string; "webhook-signature": string };

export function signedHeaders(secret: string, id: string, body: string, now = new Date()): SignedHeaders {
  const ts = Math.floor(now.getTime() / 1000);
  return { "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": sign(secret, id, ts, body) };
}

/**
 * What a receiver does: any of the space-separated v1 signatures matches, and the timestamp is
 * within `toleranceSeconds` of now (a replayed old message is refused).
 */
export function verify(
  secret: string,
  headers: Record<string, string | undefined>,
  body: string,
  now = new Date(),
  toleranceSeconds = 300,
): boolean {
  const id = headers["webhook-id"];
  const ts = Number(headers["webhook-timestamp"]);
  const given = headers["webhook-signature"];
  if (!id || !Number.isInteger(ts) || !given) return false;
  if (Math.abs(now.getTime() / 1000 - ts) > toleranceSeconds) return false;
  const expected = Buffer.from(sign(secret, id, ts, body).slice(3), "base64");
  return given.split(" ").some((part) => {
    const [version, mac] = part.split(",", 2);
    if (version !== "v1" || !mac) return false;
    const candidate = Buffer.from(mac, "base64");
    return candidate.length === expected.length && timingSafeEqual(candidate, expected);
  });
}
