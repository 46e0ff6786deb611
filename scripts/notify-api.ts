// Tells running API processes that consumers' metadata or prices changed, so their gateway caches
// drop them now rather than when they expire (for commands that change the database directly).
import { once } from "node:events";
import { setTimeout } from "node:timers/promises";
import { publishMetadataChange } from "../src/authorize/metadata-cache.ts";
import type { loadConfig } from "../src/config.ts";
import { redisConnection } from "../src/jobs/queues.ts";

export async function notifyApiProcesses(config: ReturnType<typeof loadConfig>, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  const redis = redisConnection(config, "client");
  redis.on("error", () => {}); // reported by publishMetadataChange
  // the client role fails commands until connected: give the connection a moment first
  await Promise.race([once(redis, "ready"), setTimeout(2000)]);
  await publishMetadataChange(redis, config.redis.prefix, ids, {
    warn: (_: unknown, msg: string) => console.error(`warning: ${msg}`),
  } as never);
  redis.disconnect();
}
