// What pricing each call by its model costs the meter: the meter's own path (meterBatch, no
// Kafka) over the same calls from consumers priced by their own rate, and from consumers on a plan
// (the shipped catalog plus patterns), alternating in one process so both see the same machine.
// `node --import tsx scripts/bench/pricing.ts [--calls 10000 --chunk 100 --runs 5]` on an empty,
// migrated database (DATABASE_URL; `npm run bench:pricing` prepares one).
import { randomBytes, randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { closeServices, connectServices } from "../../src/bootstrap.ts";
import { shippedCatalog } from "../../src/catalog/catalog.ts";
import { loadConfig } from "../../src/config.ts";
import { Decimal } from "../../src/domain/money.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { assignPlan, createBook, importPrices } from "../../src/price-books/price-book.service.ts";
import { meterBatch, type RawMessage } from "../../workers/meter/pipeline.ts";
import { line, loadAverage, median } from "./stats.ts";

const { values: a } = parseArgs({
  options: {
    calls: { type: "string", default: "10000" },
    chunk: { type: "string", default: "100" },
    runs: { type: "string", default: "5" },
  },
});
const CALLS = Number(a.calls);
const CHUNK = Number(a.chunk);
const CONSUMERS = 100;
const MODELS = [
  "gpt-4o-2024-08-06",
  "gpt-4o-mini-2024-07-18",
  "claude-3-5-sonnet-20241022",
  "gemini-1.5-pro",
  "mistral-large-latest",
];

const config = loadConfig({ ...process.env, LOG_LEVEL: "silent" });
const services = await connectServices(config, createLogger("silent"));
const { db } = services;

/** Consumers with their own rate (kind "rate") or on a plan of the shipped catalog and patterns (kind "plan"). */
async function consumers(kind: "rate" | "plan"): Promise<Array<{ id: string; username: string }>> {
  const book = `pricing-bench-${randomUUID().slice(0, 8)}`;
  if (kind === "plan") {
    const patterns = ["gpt-4o-mini*", "gpt-4o*", "claude-3-5-*", "gemini-*", "*-latest"].map((model, i) => ({
      model,
      input_cost_per_token: new Decimal(`0.00000${i + 1}`),
      output_cost_per_token: new Decimal(`0.0000${i + 1}`),
    }));
    await createBook(db, { name: book, prices: patterns });
    await importPrices(db, book, shippedCatalog().prices, new Date(0));
  }
  const out = [];
  for (let i = 0; i < CONSUMERS; i++) {
    const c = await db.consumer.create({
      data: {
        username: `${kind}-bench-${randomUUID().slice(0, 8)}`,
        kongId: randomUUID(),
        tdlMatrix: {},
        rates: {
          create: { effectiveFrom: new Date(0), inputCostPerToken: "0.000000083", outputCostPerToken: "0.00000033" },
        },
      },
    });
    if (kind === "plan") await assignPlan(db, c.id, { bookRef: book, markupPercent: new Decimal(5) });
    out.push({ id: c.kongId!, username: c.username! });
  }
  return out;
}

function messagesOf(cs: Array<{ id: string; username: string }>): RawMessage[] {
  return Array.from({ length: CALLS }, (_, i) => {
    const rid = randomBytes(16).toString("hex");
    const at = Date.parse("2026-11-10T00:00:00Z") + i * 37;
    const model = MODELS[i % MODELS.length]!;
    const log = {
      request: { id: rid, method: "POST", uri: "/chat", headers: {} },
      response: { status: 200, headers: {} },
      upstream_status: "200",
      started_at: at,
      consumer: cs[i % cs.length],
      route: { id: "r1", name: "chat" },
      ai: {
        proxy: {
          usage: { prompt_tokens: 300 + (i % 700), completion_tokens: 50 + (i % 90) },
          meta: { request_model: model, response_model: model },
        },
      },
    };
    return {
      value: Buffer.from(
        JSON.stringify({ v: 1, id: rid, source: "kong-http-log", receivedAt: new Date(at).toISOString(), log }),
      ),
      offset: String(i),
      partition: 0,
      topic: "bench",
    };
  });
}

async function run(cs: Array<{ id: string; username: string }>): Promise<number> {
  const messages = messagesOf(cs);
  const t0 = performance.now();
  for (let i = 0; i < messages.length; i += CHUNK) {
    const result = await meterBatch(messages.slice(i, i + CHUNK), { db, pool: services.pool, config });
    if (result.deadLetters.length || result.metered.length !== Math.min(CHUNK, messages.length - i))
      throw new Error("the bench's calls did not all meter");
    if (result.metered.some((e) => e.anomalies.includes("unpriced"))) throw new Error("a bench call was unpriced");
  }
  return CALLS / ((performance.now() - t0) / 1000);
}

const byRate = await consumers("rate");
const byPlan = await consumers("plan");
await run(byRate); // warm both paths up
await run(byPlan);
const rate: number[] = [];
const plan: number[] = [];
for (let r = 0; r < Number(a.runs); r++) {
  rate.push(await run(byRate));
  plan.push(await run(byPlan));
}
console.log(
  line({
    bench: "pricing",
    calls: CALLS,
    runs: Number(a.runs),
    own_rate_calls_per_s: Math.round(median(rate)),
    plan_calls_per_s: Math.round(median(plan)),
    plan_runs: plan.map(Math.round).join("/"),
    rate_runs: rate.map(Math.round).join("/"),
    ratio: (median(plan) / median(rate)).toFixed(3),
    load_avg: loadAverage(),
  }),
);
await closeServices(services);
