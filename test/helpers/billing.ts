// Billing test helpers: put Kong logs through the meter's own code, and run billing jobs with
// the time set by the test.
import { randomUUID } from "node:crypto";
import type { Queue } from "bullmq";
import { eventIdOf } from "../../src/domain/usage-event.ts";
import { JOBS } from "../../src/jobs/catalog.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { startInvoiceWorker } from "../../workers/invoices/worker.ts";
import { meterBatch } from "../../workers/meter/pipeline.ts";
import { admin, type Stack } from "./stack.ts";
import { waitFor } from "./wait.ts";

/** Meters entries as the worker would (parse, identify, count, price, persist), without Kafka. */
export async function meterLogs(stack: Stack, entries: Record<string, unknown>[]) {
  const messages = entries.map((log, i) => ({
    value: Buffer.from(
      JSON.stringify({ v: 1, id: eventIdOf(log), source: "kong-http-log", receivedAt: new Date().toISOString(), log }),
    ),
    offset: String(i),
    partition: 0,
    topic: "direct",
  }));
  const result = await meterBatch(messages, { db: stack.db, pool: stack.pool, config: stack.config });
  if (result.deadLetters.length)
    throw new Error(`unexpected dead letters: ${result.deadLetters.map((d) => d.reason).join("; ")}`);
  return result;
}

/** Meters raw-topic envelopes (http-log entries and CloudEvents alike) as the worker would, without Kafka. */
export async function meterEnvelopes(stack: Stack, envelopes: Record<string, unknown>[]) {
  const messages = envelopes.map((e, i) => ({
    value: Buffer.from(JSON.stringify(e)),
    offset: String(i),
    partition: 0,
    topic: "direct",
  }));
  const result = await meterBatch(messages, { db: stack.db, pool: stack.pool, config: stack.config });
  if (result.deadLetters.length)
    throw new Error(`unexpected dead letters: ${result.deadLetters.map((d) => d.reason).join("; ")}`);
  return result;
}

/** Adds a job and waits until the queue has nothing waiting, delayed or active. */
export async function runJobs(queue: Queue, name: string, data: Record<string, unknown>) {
  await queue.add(name, data, { jobId: `test.${name}.${randomUUID()}` });
  await waitFor(
    async () => {
      const c = await queue.getJobCounts("waiting", "active", "delayed", "prioritized", "waiting-children");
      return Object.values(c).every((n) => n === 0);
    },
    30_000,
    `${name} and the jobs it added to finish`,
  );
  const failed = await queue.getFailed();
  if (failed.length)
    throw new Error(`billing jobs failed: ${failed.map((j) => `${j.name}: ${j.failedReason}`).join("; ")}`);
}

export const tick = (queue: Queue, asOf: string) => runJobs(queue, JOBS.tick.name, { asOf });

/** The invoice worker on the stack's database, quiet and unscheduled: tests add the jobs themselves. */
export const startTestInvoiceWorker = (stack: Stack) =>
  startInvoiceWorker({ config: stack.config, db: stack.db, logger: createLogger("silent"), schedule: false });

/** A consumer with its own rates (1 and 3 per million tokens), named `prefix-<8 hex>`. */
export async function ratedConsumer(stack: Stack, prefix: string) {
  const kongId = randomUUID();
  const name = `${prefix}-${kongId.slice(0, 8)}`;
  const res = await admin(stack, "POST", "/v1/consumers", {
    username: name,
    kong_id: kongId,
    metadata: { input_cost_per_token: "0.000001", output_cost_per_token: "0.000003" },
  });
  if (res.statusCode !== 201) throw new Error(`creating ${name} answered ${res.statusCode}: ${res.body}`);
  return { id: res.json().id as string, kongId, name };
}
