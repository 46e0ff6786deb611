// `npm run bench`: drives N Kong logs through ingest -> Kafka -> meter -> PostgreSQL, over real
// HTTP, and prints events/s and the time from POST to visible (the batch's transaction has
// committed, so the usage API returns it), for statistics-only logs and ~2 KB chat payloads.
// Load generator, API and meter share this process and the machine's 2 cores.
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { closeServices, connectServices } from "../src/bootstrap.ts";
import { loadConfig } from "../src/config.ts";
import { buildApp } from "../src/http/app.ts";
import { createLogger } from "../src/lib/logger.ts";
import { startMeter } from "../workers/meter/consumer.ts";
import { kong38Ai, kongLog } from "../test/fixtures/kong-logs.ts";

const { values: args } = parseArgs({
  options: { n: { type: "string", default: "3000" }, concurrency: { type: "string", default: "16" } },
});
const N = Number(args.n);
const CONCURRENCY = Number(args.concurrency);

const INGEST_SECRET = "bench-ingest-secret";
const ADMIN_KEY = "bench-admin-key";

function chatPayload(i: number) {
  // ~2 KB of request and response JSON, varied so every call is tokenized afresh
  const words = (k: number) => Array.from({ length: k }, (_, j) => `word${(i * 31 + j) % 997}`).join(" ");
  return {
    requestBody: { model: "gpt-4o", messages: [{ role: "system", content: "You are a concise assistant." }, { role: "user", content: words(150) }] },
    responseBody: { choices: [{ index: 0, message: { role: "assistant", content: words(110) } }], usage: { prompt_tokens: 400, completion_tokens: 300 } },
  };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function runMode(mode: "stats-only" | "chat-2kb") {
  const suffix = randomUUID().slice(0, 8);
  const config = loadConfig({
    ...process.env,
    LOG_LEVEL: "warn",
    PORT: "0",
    INGEST_SECRET,
    ADMIN_API_KEY: ADMIN_KEY,
    KAFKA_TOPIC_RAW: `bench.${suffix}.raw`,
    KAFKA_TOPIC_DLQ: `bench.${suffix}.dlq`,
    KAFKA_GROUP_ID: `bench-${suffix}`,
  });
  const logger = createLogger(config.logLevel);
  const services = await connectServices(config, logger);
  const posted = new Map<string, number>();
  const visible: number[] = [];
  let lastVisibleAt = 0;
  const meter = await startMeter({
    ...services,
    config,
    logger,
    onMetered: (r) => {
      const now = performance.now();
      for (const { id } of r.metered) {
        const t0 = posted.get(id);
        if (t0 !== undefined) visible.push(now - t0);
      }
      lastVisibleAt = now;
    },
  });
  const app = await buildApp({ ...services, config, logger });
  const address = await app.listen({ host: "127.0.0.1", port: 0 });

  const kongId = randomUUID();
  await fetch(`${address}/v1/consumers`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ username: `bench-${suffix}`, kong_id: kongId, metadata: { input_cost_per_token: "0.000000083", output_cost_per_token: "0.00000033" } }),
  });

  const bodies = Array.from({ length: N }, (_, i) => {
    const entry = mode === "stats-only" ? kongLog({ consumer: { id: kongId }, ai: kong38Ai() }) : kongLog({ consumer: { id: kongId }, ...chatPayload(i) });
    return { id: (entry.request as { id: string }).id, body: JSON.stringify(entry) };
  });
  const avgBytes = Math.round(bodies.reduce((s, b) => s + b.body.length, 0) / N);

  const start = performance.now();
  let next = 0;
  let failures = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) {
        const { id, body } = bodies[next++]!;
        posted.set(id, performance.now());
        const res = await fetch(`${address}/ingest/kong`, { method: "POST", headers: { authorization: `Bearer ${INGEST_SECRET}`, "content-type": "application/json" }, body });
        if (res.status !== 202) failures++;
        await res.arrayBuffer();
      }
    }),
  );
  const postedAll = performance.now();
  const deadline = Date.now() + 120_000;
  while (visible.length < N - failures && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));

  const usage = await fetch(`${address}/v1/consumers/${kongId}/usage?from=2020-01-01T00:00:00Z&to=2100-01-01T00:00:00Z`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } }).then((r) => r.json() as Promise<{ totals: { calls: number; cost: string } }>);
  const sorted = [...visible].sort((a, b) => a - b);
  const elapsed = (lastVisibleAt - start) / 1000;
  console.log(
    [
      `mode=${mode}`,
      `n=${N}`,
      `avg_body_bytes=${avgBytes}`,
      `concurrency=${CONCURRENCY}`,
      `ingest_rps=${(N / ((postedAll - start) / 1000)).toFixed(0)}`,
      `events_per_s=${(visible.length / elapsed).toFixed(0)}`,
      `visible_p50_ms=${percentile(sorted, 50).toFixed(0)}`,
      `visible_p99_ms=${percentile(sorted, 99).toFixed(0)}`,
      `failed_posts=${failures}`,
      `api_calls=${usage.totals.calls}`,
      `api_cost=${usage.totals.cost}`,
    ].join(" "),
  );
  await app.close();
  await meter.stop();
  await closeServices(services);
  if (usage.totals.calls !== N - failures) throw new Error(`API shows ${usage.totals.calls} calls, expected ${N - failures}`);
}

await runMode("stats-only");
await runMode("chat-2kb");
