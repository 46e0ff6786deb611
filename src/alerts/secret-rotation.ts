// Re-encrypts every endpoint's signing secret under the current key (see endpoint-secret.ts).
import type { Db } from "../db/client.ts";
import { decryptSecret, encryptSecret, keyId, storedKeyId, type SecretKeys } from "./endpoint-secret.ts";

export type Rotation = {
  total: number;
  reencrypted: number;
  current: number;
  unreadable: Array<{ id: string; error: string }>;
};

export async function reencryptSecrets(db: Db, keys: SecretKeys): Promise<Rotation> {
  const currentId = keyId(keys.current);
  const endpoints = await db.webhookEndpoint.findMany({
    select: { id: true, secretEncrypted: true },
    orderBy: { createdAt: "asc" },
  });
  const r: Rotation = { total: endpoints.length, reencrypted: 0, current: 0, unreadable: [] };
  for (const e of endpoints) {
    if (storedKeyId(e.secretEncrypted) === currentId) {
      r.current++;
      continue;
    }
    let secret: string;
    try {
      secret = decryptSecret(keys, e.secretEncrypted);
    } catch (err) {
      r.unreadable.push({ id: e.id, error: (err as Error).message });
      continue;
    }
    // only if unchanged since it was read
    const done = await db.webhookEndpoint.updateMany({
      where: { id: e.id, secretEncrypted: e.secretEncrypted },
      data: { secretEncrypted: encryptSecret(keys.current, secret) },
    });
    if (done.count === 1) r.reencrypted++;
    else r.current++; // changed meanwhile: whoever changed it wrote it under the current key
  }
  return r;
}
