// `npm run bench:authorize`: the gateway's authorize call over real HTTP, as the Kong plugin makes
// it, with PostgreSQL and Redis behind it. Prints p50/p99 latency per call and calls/s with the
// metadata cache on and off (the TDL check always goes to Redis), and with the cache on and a budget
// on every consumer (each call then also holds its maximum cost in the Redis ledger). With `-- --adversarial`, instead:
// the latency of ordinary calls, one at a time, alone and while adversarial prompts (4 MB of letters
// in no order, counted in a worker within AUTHORIZE_COUNT_BUDGET_MS) are authorized beside them.
// The load generator and the API share this process and the machine's 2 cores.
import { readFileSync } from "node:fs";
import { lettersInNoOrder } from "./corpus.ts";
import { parseArgs } from "node:util";
import { closeServices, connectServices } from "../../src/bootstrap.ts";
import { loadConfig } from "../../src/config.ts";
import { importKongConfig } from "../../src/consumers/import.service.ts";
import { startApi } from "../../src/composition.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { changeBudget } from "../../src/budgets/budget.repository.ts";
import { Decimal } from "../../src/domain/money.ts";

const { values: args } = parseArgs({
  options: {
    n: { type: "string", default: "5000" },
    concurrency: { type: "string", default: "1,8" },
    consumers: { type: "string", default: "50" },
    adversarial: { type: "boolean", default: false },
  },
});
const N = Number(args.n);
const CONSUMERS = Number(args.consumers);
const SECRET = "bench-gateway-secret";

/** The seed's premium consumer (no TDL limits, so no call is denied) under many names. */
function benchConfig(): string {
  const seed = readFileSync(new URL("../../test/fixtures/bench-consumer.yaml", import.meta.url), "utf8");
  const one = seed.slice(seed.indexOf("  - username:"));
  const many = Array.from({ length: CONSUMERS }, (_, i) =>
    one.replace("bench-client", `bench-client-${i}`).replace("bench-001", `bench-${i}`),
  ).join("");
  return `_format_version: "3.0"\nconsumers:\n${many}`;
}

/** A ~2 KB chat request, varied per call so every one is tokenized afresh. */
const chatBody = (i: number) =>
  JSON.stringify({
    model: "gpt-4o-mini",
    max_tokens: 500,
    messages: [
      { role: "system", content: "You are a concise assistant." },
      { role: "user", content: Array.from({ length: 300 }, (_, j) => `word${(i * 31 + j) % 997}`).join(" ") },
    ],
  });

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function runMode(mode: "cached" | "uncached" | "budgets", CONCURRENCY: number) {
  const config = loadConfig({
    ...process.env,
    LOG_LEVEL: "warn",
    INGEST_SECRET: SECRET,
    REDIS_PREFIX: `bench-${Date.now()}`,
    METADATA_CACHE_TTL_MS: mode === "uncached" ? "0" : "30000",
  });
  const logger = createLogger(config.logLevel);
  const services = await connectServices(config, logger);
  await importKongConfig(services.db, benchConfig(), {
    defaults: config.metering,
    by: { actor: "bench", source: "import" },
    dryRun: false,
  });
  const consumers = await services.db.consumer.findMany({
    where: { username: { startsWith: "bench-client-" } },
    select: { id: true },
  });
  for (const c of consumers) {
    // a budget no call reaches, so every call is held and none denied; removed for the other modes
    const change =
      mode === "budgets"
        ? {
            period: "monthly" as const,
            amount: new Decimal("1000000"),
            tokens: null,
            thresholds: [],
            capOutput: "auto" as const,
          }
        : { removed: true as const };
    await changeBudget(services.db, { consumerId: c.id }, change, "bench");
  }
  const app = await startApi({ ...services, config, logger });
  const address = await app.listen({ host: "127.0.0.1", port: 0 });
  const run = Date.now();
  const bodies = Array.from({ length: N }, (_, i) =>
    JSON.stringify({
      consumer: { username: `bench-client-${i % CONSUMERS}` },
      route: { name: "llama2-chat" },
      body: chatBody(i),
      request_id: `bench-${run}-${i}`,
    }),
  );
  const call = async (body: string) => {
    const res = await fetch(`${address}/v1/gateway/authorize`, {
      method: "POST",
      headers: { authorization: `Bearer ${SECRET}`, "content-type": "application/json" },
      body,
    });
    const decision = (await res.json()) as { allow?: boolean };
    return res.status === 200 && decision.allow === true;
  };
  for (let i = 0; i < 200; i++) await call(bodies[i]!); // warm up: JIT, encoders, connections

  const latencies: number[] = [];
  let failures = 0;
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < N) {
        const body = bodies[next++]!;
        const t0 = performance.now();
        if (!(await call(body))) failures++;
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const sorted = latencies.sort((a, b) => a - b);
  console.log(
    [
      `mode=${mode}`,
      `n=${N}`,
      `concurrency=${CONCURRENCY}`,
      `consumers=${CONSUMERS}`,
      `avg_body_bytes=${Math.round(bodies.reduce((s, b) => s + b.length, 0) / N)}`,
      `calls_per_s=${(N / seconds).toFixed(0)}`,
      `p50_ms=${percentile(sorted, 50).toFixed(2)}`,
      `p99_ms=${percentile(sorted, 99).toFixed(2)}`,
      `not_allowed=${failures}`,
    ].join(" "),
  );
  await app.close();
  await closeServices(services);
  return percentile(sorted, 50);
}

async function runAdversarial() {
  const config = loadConfig({
    ...process.env,
    LOG_LEVEL: "warn",
    INGEST_SECRET: SECRET,
    REDIS_PREFIX: `bench-${Date.now()}`,
  });
  const logger = createLogger(config.logLevel);
  const services = await connectServices(config, logger);
  await importKongConfig(services.db, benchConfig(), {
    defaults: config.metering,
    by: { actor: "bench", source: "import" },
    dryRun: false,
  });
  const app = await startApi({ ...services, config, logger });
  const address = await app.listen({ host: "127.0.0.1", port: 0 });
  const call = async (consumer: number, body: string) => {
    const t0 = performance.now();
    const res = await fetch(`${address}/v1/gateway/authorize`, {
      method: "POST",
      headers: { authorization: `Bearer ${SECRET}`, "content-type": "application/json" },
      body: JSON.stringify({
        consumer: { username: `bench-client-${consumer % CONSUMERS}` },
        route: { name: "llama2-chat" },
        body,
      }),
    });
    const decision = (await res.json()) as { checks?: { token_count?: string } };
    return { ms: performance.now() - t0, overBudget: decision.checks?.token_count === "over_budget" };
  };
  const adversarial = JSON.stringify({
    model: "gpt-4o",
    messages: [{ role: "user", content: lettersInNoOrder(4 << 20) }],
  });
  const measure = async (label: string) => {
    const ms: number[] = [];
    for (let i = 0; i < N; i++) ms.push((await call(i, chatBody(i))).ms);
    ms.sort((a, b) => a - b);
    console.log(
      `adversarial=${label} n=${N} budget_ms=${config.authorize.countBudgetMs} p50_ms=${percentile(ms, 50).toFixed(2)} p99_ms=${percentile(ms, 99).toFixed(2)} max_ms=${ms[ms.length - 1]!.toFixed(2)}`,
    );
  };
  for (let i = 0; i < 200; i++) await call(i, chatBody(i)); // warm up
  await measure("off");
  let running = true;
  const slow: Array<{ ms: number; overBudget: boolean }> = [];
  const loop = (async () => {
    while (running) slow.push(await call(0, adversarial));
  })();
  await measure("on");
  running = false;
  await loop;
  const slowMs = slow.map((s) => s.ms).sort((a, b) => a - b);
  console.log(
    `adversarial_calls=${slow.length} over_budget=${slow.filter((s) => s.overBudget).length} p50_ms=${percentile(slowMs, 50).toFixed(1)} max_ms=${slowMs[slowMs.length - 1]!.toFixed(1)}`,
  );
  await app.close();
  await closeServices(services);
}

if (args.adversarial) {
  await runAdversarial();
  process.exit(0);
}

// concurrency 1 is the latency of one call; 8 shows it under the load of a busy gateway
for (const concurrency of args.concurrency.split(",").map(Number)) {
  const cached = await runMode("cached", concurrency);
  const uncached = await runMode("uncached", concurrency);
  const budgets = await runMode("budgets", concurrency);
  console.log(
    `concurrency=${concurrency} p50 uncached/cached = ${(uncached / cached).toFixed(2)} budgets/cached = ${(budgets / cached).toFixed(2)}`,
  );
}
