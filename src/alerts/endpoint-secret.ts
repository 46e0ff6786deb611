// Endpoint signing secrets at rest: AES-256-GCM, so the database never holds one in clear. Each
// stored secret names the key that encrypted it (the first 8 hex digits of the key's SHA-256), so
// keys can change: WEBHOOK_SECRET_KEY encrypts, it and WEBHOOK_PREVIOUS_SECRET_KEYS decrypt, and
// `npm run webhook-secrets -- reencrypt` moves every secret to the current key. Secrets stored
// before keys had ids ("v1:") are tried against every key; the authentication tag tells which fits.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

export type SecretKeys = { current: Buffer; previous: readonly Buffer[] };

/** A key's id: names it without revealing it. */
export const keyId = (key: Buffer) => createHash("sha256").update(key).digest("hex").slice(0, 8);

export function encryptSecret(key: Buffer, secret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const body = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
  return `v2:${keyId(key)}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64")}`;
}

function open(key: Buffer, data: string): string {
  const raw = Buffer.from(data, "base64");
  const decipher = createDecipheriv("aes-256-gcm", key, raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
}

/** The id of the key a stored secret is under; null for one stored before keys had ids. */
export function storedKeyId(stored: string): string | null {
  return stored.startsWith("v2:") ? stored.split(":", 3)[1]! : null;
}

export function decryptSecret(keys: SecretKeys | Buffer, stored: string): string {
  const all = Buffer.isBuffer(keys) ? [keys] : [keys.current, ...keys.previous];
  const [version, a, b] = stored.split(":", 3);
  if (version === "v2" && a && b) {
    const key = all.find((k) => keyId(k) === a);
    if (!key)
      throw new Error(
        `webhook secret: stored under key ${a}, which is not configured (WEBHOOK_SECRET_KEY or WEBHOOK_PREVIOUS_SECRET_KEYS)`,
      );
    return open(key, b);
  }
  if (version === "v1" && a) {
    for (const key of all) {
      try {
        return open(key, a);
      } catch {
        // not this key: the authentication tag did not match
      }
    }
    throw new Error(
      "webhook secret: no configured key decrypts it (WEBHOOK_SECRET_KEY or WEBHOOK_PREVIOUS_SECRET_KEYS)",
    );
  }
  throw new Error("webhook secret: unknown storage format");
}
