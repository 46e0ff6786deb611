import { Queue, type Worker } from "bullmq";
import { Redis } from "ioredis";
import type { Config } from "../config.ts";
import { withinTimeout } from "../lib/timeout.ts";
import { QUEUES } from "./catalog.ts";

/**
 * Workers wait for Redis to come back (no per-command retry limit); the API's side fails at once
 * when Redis is away, so a trigger answers 503 instead of hanging.
 */
export function redisConnection(config: Config, role: "worker" | "client"): Redis {
  return new Redis(config.redis.url, {
    maxRetriesPerRequest: role === "worker" ? null : 1,
    enableOfflineQueue: role === "worker",
    retryStrategy: (times) => Math.min(times * 200, 5000),
  });
}

export function createBillingQueue(config: Config, connection: Redis): Queue {
  return new Queue(QUEUES.billing, { connection, prefix: config.redis.prefix });
}

/** Queue calls wait for Redis to become ready; an API request must not wait for ever. */
export function queueCall<T>(ms: number, what: string, fn: () => Promise<T>): Promise<T> {
  return withinTimeout(ms, `${what}: no answer from Redis within ${ms} ms`, fn());
}

/** Stops a worker and its queue, then drops their connections (BullMQ does not close connections it was given). */
export function stopper(worker: Worker, queue: Queue, connections: Redis[]): () => Promise<void> {
  return async () => {
    await worker.close();
    await queue.close();
    for (const c of connections) c.disconnect();
  };
}
