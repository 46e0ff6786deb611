// What an operator sees without reading logs: liveness and readiness with each dependency's
// state, Prometheus metrics (lag and stalled partitions included), and one log line per request
// with no secret in it.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { createServer } from "node:net";
import Fastify from "fastify";
import { startApi } from "../../src/composition.ts";
import { opsRoutes } from "../../src/http/routes/ops.routes.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { DependencyChecks } from "../../src/ops/health.ts";
import { MeterProgress } from "../../src/ops/meter-progress.ts";
import { createMetrics } from "../../src/ops/metrics.ts";
import { createPrisma } from "../../src/db/client.ts";
import { kongLog } from "../fixtures/kong-logs.ts";
import { admin, ingest, startStack, type Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

let stack: Stack;
let idle: Stack; // no meter: its partitions lag and then stall

before(async () => {
  stack = await startStack();
  idle = await startStack({ METER_STALL_AFTER_MS: "1000" }, { meter: false });
});
after(async () => {
  await stack.close();
  await idle.close();
});

const get = (s: Stack, url: string) => s.app.inject({ method: "GET", url });

/** The value of one series in Prometheus text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("health", () => {
  it("/livez answers while the process runs; /healthz is its old name", async () => {
    assert.deepEqual((await get(stack, "/livez")).json(), { status: "ok" });
    assert.equal((await get(stack, "/healthz")).statusCode, 200);
  });

  it("/readyz reports each dependency with its latency", async () => {
    const res = await get(stack, "/readyz");
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.status, "ready");
    for (const dep of ["postgres", "kafka", "redis"]) {
      assert.equal(body.checks[dep].ok, true, dep);
      assert.equal(typeof body.checks[dep].latency_ms, "number");
    }
    assert.ok(["ok", "lagging"].includes(body.meter.status));
  });

  it("/readyz is 503 when a required dependency is down, naming it", async () => {
    const deadDb = createPrisma("postgresql://postgres@127.0.0.1:1/nowhere");
    const app = Fastify();
    const checks = new DependencyChecks({ db: deadDb, kafka: stack.kafka, redis: stack.redis }, 1000);
    // the admin key, as the API's authentication sets it
    app.addHook("onRequest", async (request) => {
      if (request.headers["x-test-admin"]) request.principal = { kind: "admin" };
    });
    await app.register(async (scope) =>
      opsRoutes(scope, { checks, metrics: createMetrics(), required: ["postgres", "kafka"], optional: ["redis"] }),
    );
    try {
      const res = await app.inject({ method: "GET", url: "/readyz" });
      assert.equal(res.statusCode, 503);
      assert.equal(res.json().status, "not_ready");
      assert.equal(res.json().checks.postgres.ok, false);
      assert.equal(
        res.json().checks.postgres.error,
        "unavailable",
        "no driver text, host or port without the admin key",
      );
      assert.equal(res.json().checks.kafka.ok, true);
      const detail = (await app.inject({ method: "GET", url: "/readyz", headers: { "x-test-admin": "1" } })).json();
      assert.match(detail.checks.postgres.error, /./);
      assert.notEqual(detail.checks.postgres.error, "unavailable", "the operator sees why");
    } finally {
      await app.close();
      await checks.close();
      await deadDb.$disconnect();
    }
  });

  it("a partition the meter does not move shows as lagging, then stalled, in /readyz and /metrics", async () => {
    assert.equal((await ingest(idle, [kongLog(), kongLog()])).statusCode, 202);
    const stalled = await waitFor(
      async () => {
        const body = (await get(idle, "/readyz")).json();
        return body.meter.status === "stalled" ? body : undefined;
      },
      20_000,
      "the meter section to say stalled",
    );
    assert.equal(stalled.status, "ready", "the API itself can still serve");
    const p = stalled.meter.partitions.find((x: { lag: number }) => x.lag > 0);
    assert.ok(p.stalled && p.unchanged_for_ms >= 1000);
    const metrics = (await get(idle, "/metrics")).body;
    assert.ok(sample(metrics, `tokenmeter_meter_consumer_lag_messages{partition="${p.partition}"}`)! > 0);
    assert.equal(sample(metrics, `tokenmeter_meter_partition_stalled{partition="${p.partition}"}`), 1);
  });

  it("a meter process is not ready while one of its partitions is stalled", async () => {
    const app = Fastify();
    const checks = new DependencyChecks({ db: idle.db, kafka: idle.kafka, redis: idle.redis });
    const progress = new MeterProgress(checks, idle.config, idle.metrics);
    await app.register(async (scope) =>
      opsRoutes(scope, {
        checks,
        metrics: idle.metrics,
        required: ["postgres", "kafka"],
        progress,
        stallIsUnready: true,
      }),
    );
    try {
      await progress.report(); // the first sample starts the clock of each partition
      await new Promise((r) => setTimeout(r, 1100));
      const res = await app.inject({ method: "GET", url: "/readyz" });
      assert.equal(res.statusCode, 503);
      assert.equal(res.json().meter.status, "stalled");
    } finally {
      await app.close();
      await checks.close();
    }
  });
});

describe("operational endpoints under load", () => {
  it("a storm of probes and scrapes costs one dependency check, one lag sample and one refresh per interval", async () => {
    const counted = { checks: 0, refresh: 0, progress: 0 };
    class CountingChecks extends DependencyChecks {
      override all(deps: Parameters<DependencyChecks["all"]>[0]) {
        counted.checks++;
        return super.all(deps);
      }
    }
    const checks = new CountingChecks({ db: stack.db, kafka: stack.kafka, redis: stack.redis });
    const progress = new MeterProgress(checks, stack.config, stack.metrics);
    const report = progress.report.bind(progress);
    progress.report = () => {
      counted.progress++;
      return report();
    };
    const app = Fastify();
    const refresh = [async () => void counted.refresh++];
    await app.register(async (scope) =>
      opsRoutes(scope, {
        checks,
        metrics: stack.metrics,
        required: ["postgres", "kafka"],
        optional: ["redis"],
        progress,
        refresh,
        cacheMs: 1500,
      }),
    );
    try {
      const storm = await Promise.all(
        Array.from({ length: 200 }, (_, i) => app.inject({ method: "GET", url: i % 2 ? "/readyz" : "/metrics" })),
      );
      assert.ok(storm.every((r) => r.statusCode === 200));
      assert.deepEqual(counted, { checks: 1, refresh: 1, progress: 1 }, "one computation for 200 requests");
      await new Promise((r) => setTimeout(r, 1600));
      await Promise.all([
        app.inject({ method: "GET", url: "/readyz" }),
        app.inject({ method: "GET", url: "/metrics" }),
      ]);
      assert.deepEqual(counted, { checks: 2, refresh: 2, progress: 2 }, "computed again once the interval has passed");
    } finally {
      await app.close();
      await checks.close();
    }
  });

  it("/metrics can require a bearer token, or move to a port of its own", async () => {
    const token = "scrape-token-0123456789";
    const guarded = await startApi({
      ...stack,
      config: { ...stack.config, ops: { ...stack.config.ops, metricsToken: token } },
      logger: createLogger("silent"),
    });
    try {
      const none = await guarded.inject({ method: "GET", url: "/metrics" });
      assert.equal(none.statusCode, 401);
      assert.equal(none.headers["www-authenticate"], 'Bearer realm="metrics"');
      assert.equal(
        (
          await guarded.inject({
            method: "GET",
            url: "/metrics",
            headers: { authorization: "Bearer wrong-token-0123456789" },
          })
        ).statusCode,
        401,
      );
      const ok = await guarded.inject({
        method: "GET",
        url: "/metrics",
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(ok.statusCode, 200);
      assert.match(ok.body, /tokenmeter_ingest_requests_total/);
      assert.equal((await guarded.inject({ method: "GET", url: "/readyz" })).statusCode, 200, "probes need no token");
    } finally {
      await guarded.close();
    }

    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const p = (probe.address() as { port: number }).port;
        probe.close(() => resolve(p));
      });
    });
    const own = await startApi({
      ...stack,
      config: {
        ...stack.config,
        http: { ...stack.config.http, host: "127.0.0.1" },
        ops: { ...stack.config.ops, metricsPort: port },
      },
      logger: createLogger("silent"),
    });
    try {
      assert.equal((await own.inject({ method: "GET", url: "/metrics" })).statusCode, 404, "not on the main port");
      const scraped = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(scraped.status, 200);
      assert.match(await scraped.text(), /tokenmeter_ingest_requests_total/);
    } finally {
      await own.close();
    }
  });
});

describe("metrics", () => {
  it("count ingest answers and entries, metered events and tokens (OpenTelemetry GenAI names)", async () => {
    const kongId = randomUUID();
    await admin(stack, "POST", "/v1/consumers", { username: `ops-${kongId.slice(0, 8)}`, kong_id: kongId });
    const before = (await get(stack, "/metrics")).body;
    const metered = (t: string) => sample(t, 'tokenmeter_meter_events_total{result="metered"}') ?? 0;
    assert.equal(
      (await ingest(stack, [kongLog({ consumer: { id: kongId } }), kongLog({ consumer: { id: kongId } }), { nope: 1 }]))
        .statusCode,
      202,
    );
    assert.equal((await ingest(stack, "not json")).statusCode, 400);
    const text = await waitFor(
      async () => {
        const t = (await get(stack, "/metrics")).body;
        return metered(t) >= metered(before) + 2 ? t : undefined;
      },
      20_000,
      "two metered events in /metrics",
    );
    assert.ok(sample(text, 'tokenmeter_ingest_requests_total{status="202"}')! >= 1);
    assert.ok(sample(text, 'tokenmeter_ingest_requests_total{status="400"}')! >= 1);
    assert.ok(sample(text, 'tokenmeter_ingest_entries_total{result="rejected",reason="request_missing"}')! >= 1);
    assert.ok(
      sample(text, 'gen_ai_client_token_usage_count{gen_ai_token_type="input",gen_ai_operation_name="chat"}')! >= 2,
    );
    assert.ok(sample(text, "tokenmeter_meter_end_to_end_seconds_count")! >= 2);
    assert.ok(sample(text, 'tokenmeter_kafka_produce_seconds_count{result="ok"}')! >= 1);
    assert.match(text, /^tokenmeter_meter_tokenize_seconds_bucket/m);
    assert.doesNotMatch(text, /tokenmeter_consumer_tokens_total\{/, "per-consumer series are off by default");
  });
});

describe("logs", () => {
  it("write one line per request, with the path but never the query", async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write: (chunk, _enc, done) => {
        lines.push(...chunk.toString().split("\n").filter(Boolean));
        done();
      },
    });
    const app = await startApi({ ...stack, logger: createLogger("info", undefined, sink) });
    try {
      await app.inject({ method: "GET", url: "/livez?apikey=very-secret-123" });
      const requestLines = lines.map((l) => JSON.parse(l)).filter((l) => l.path === "/livez");
      assert.equal(requestLines.length, 1, lines.join("\n"));
      assert.equal(requestLines[0].status, 200);
      assert.ok(!lines.some((l) => l.includes("very-secret-123")));
    } finally {
      await app.close();
    }
  });
});
