// A consumer's unit of work (a chunk of a fetched batch) retried in place while a dependency is
// down: exponential backoff, heartbeats meanwhile so the group keeps the partition, and no offset
// resolved, so nothing is skipped. Any other error is the caller's to handle.
import type { EachBatchPayload } from "kafkajs";
import { TransientFailure } from "../db/errors.ts";
import { AppError } from "../domain/errors.ts";
import type { Logger } from "../lib/logger.ts";
import type { Metrics } from "../ops/metrics.ts";

const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 30_000;
const HEARTBEAT_EVERY_MS = 2_000;

/** The dependency a transient failure is about, or undefined for any other error. */
function unavailable(err: unknown): "postgres" | "kafka" | undefined {
  if (err instanceof TransientFailure) return "postgres";
  if (err instanceof AppError && err.code === "kafka_unavailable") return "kafka";
  return undefined;
}

/** Runs `work` until it succeeds; undefined when the consumer stops or loses the partition meanwhile. */
export async function untilDone<T>(
  work: () => Promise<T>,
  payload: EachBatchPayload,
  log: Logger,
  metrics: Metrics,
): Promise<T | undefined> {
  for (let attempt = 1, delay = RETRY_FIRST_MS; ; attempt++, delay = Math.min(delay * 2, RETRY_MAX_MS)) {
    try {
      return await work();
    } catch (err) {
      const dependency = unavailable(err);
      if (!dependency) throw err;
      metrics.meterRetries.inc({ dependency });
      // the producer counts its own failures; PostgreSQL's are counted here
      if (dependency === "postgres") metrics.dependencyErrors.inc({ dependency });
      log.warn({ err, attempt, retryInMs: delay, dependency }, "dependency unavailable; will retry");
    }
    for (const until = Date.now() + delay; Date.now() < until; ) {
      if (!payload.isRunning() || payload.isStale()) return undefined;
      await new Promise((r) => setTimeout(r, Math.min(HEARTBEAT_EVERY_MS, until - Date.now())));
      await payload.heartbeat();
    }
  }
}
