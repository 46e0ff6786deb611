// A consumer's own credentials: issued once (only the hash is kept), listed with when each was
// last used, revoked; and the consumer a presented key belongs to.
import { createHash, randomBytes } from "node:crypto";
import type { Db } from "../db/client.ts";
import { notFound } from "../domain/errors.ts";
import { resolveConsumer } from "./consumer.service.ts";

const KEY_PREFIX = "tmk_";
const LAST_USED_PRECISION_MS = 60_000;
const hashApiKey = (key: string) => createHash("sha256").update(key).digest("hex");

function newApiKey(): { key: string; prefix: string; hash: string } {
  const key = `${KEY_PREFIX}${randomBytes(24).toString("base64url")}`;
  return { key, prefix: key.slice(0, 10), hash: hashApiKey(key) };
}

export class ApiKeys {
  constructor(private readonly db: Db) {}

  /** The key itself is in this answer only. */
  async issue(consumerRef: string) {
    const c = await resolveConsumer(this.db, consumerRef);
    const { key, prefix, hash } = newApiKey();
    const row = await this.db.consumerApiKey.create({ data: { consumerId: c.id, prefix, hash } });
    return { ...row, key };
  }

  async list(consumerRef: string) {
    const c = await resolveConsumer(this.db, consumerRef);
    const keys = await this.db.consumerApiKey.findMany({ where: { consumerId: c.id }, orderBy: { createdAt: "asc" } });
    return { consumerId: c.id, keys };
  }

  /** Revoking twice keeps the first time. */
  async revoke(consumerRef: string, id: string) {
    const c = await resolveConsumer(this.db, consumerRef);
    const key = await this.db.consumerApiKey.findFirst({ where: { id, consumerId: c.id } });
    if (!key) throw notFound(`no API key ${id} for this consumer`);
    if (key.revokedAt) return key;
    return this.db.consumerApiKey.update({ where: { id }, data: { revokedAt: new Date() } });
  }

  /** The consumer a `tmk_` key belongs to, unless the key is unknown or revoked; notes when it was used. */
  async ownerOf(given: string | undefined): Promise<string | undefined> {
    if (!given?.startsWith(KEY_PREFIX)) return undefined;
    const row = await this.db.consumerApiKey.findUnique({ where: { hash: hashApiKey(given) } });
    if (!row || row.revokedAt) return undefined;
    if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > LAST_USED_PRECISION_MS) {
      // best effort: a failed update must not fail the request it records
      await this.db.consumerApiKey.update({ where: { id: row.id }, data: { lastUsedAt: new Date() } }).catch(() => {});
    }
    return row.consumerId;
  }
}
