// What an orchestrator and a monitoring system ask a process: /livez (the process runs),
// /readyz (the dependencies it needs answer; the meter's progress), /metrics (Prometheus).
// /healthz is kept as the old name of /livez. What these cost (dependency probes, Kafka admin
// calls, database aggregates) is computed at most once per OPS_CACHE_MS, whatever the request
// rate; /metrics can require a bearer token (METRICS_TOKEN).
import type { FastifyInstance } from "fastify";
import type { Dependency, DependencyChecks } from "../../ops/health.ts";
import type { MeterProgress } from "../../ops/meter-progress.ts";
import type { Metrics } from "../../ops/metrics.ts";
import { atMostEvery } from "../../ops/at-most-every.ts";
import { AppError } from "../../domain/errors.ts";
import { presentedSecret, secretMatches } from "../auth.ts";
import { ErrorBody } from "../openapi.ts";
import { contractSerializer } from "../response-contract.ts";
import { Live, MetricsText, Ready } from "../contract/operations.ts";

export type OpsDeps = {
  checks: DependencyChecks;
  metrics: Metrics;
  /** Dependencies without which this process cannot do its work: down means 503. */
  required: readonly Dependency[];
  /** Dependencies reported but not required (the process degrades without them). */
  optional?: readonly Dependency[];
  progress?: MeterProgress;
  /** A stalled partition makes this process not ready (a meter process); otherwise it is only reported. */
  stallIsUnready?: boolean;
  /** Gauges read from PostgreSQL just before a scrape (invoices, dead letters by status). */
  refresh?: Array<() => Promise<void>>;
  /** Expensive figures are computed at most once per this many ms (default 2000). */
  cacheMs?: number;
  /** When set, /metrics answers only `Authorization: Bearer <token>`. */
  metricsToken?: string;
  /** False: this listener does not serve /metrics (it has a port of its own). */
  serveMetrics?: boolean;
};

function withoutErrorText<C extends { error?: string }>(checks: Record<string, C>): Record<string, C> {
  return Object.fromEntries(
    Object.entries(checks).map(([name, c]) => [name, c.error === undefined ? c : { ...c, error: "unavailable" }]),
  );
}

export async function opsRoutes(app: FastifyInstance, deps: OpsDeps): Promise<void> {
  // this scope may be a worker's own small server, without the API's compilers
  app.setSerializerCompiler(contractSerializer(false));
  const ops = { tags: ["ops"] };
  const live = async () => ({ status: "ok" as const });
  app.get("/livez", { schema: { ...ops, summary: "The process runs", response: { 200: Live } } }, live);
  app.get("/healthz", { schema: { ...ops, summary: "The old name of /livez", response: { 200: Live } } }, live);

  const every = deps.cacheMs ?? 2000;
  const dependencyChecks = atMostEvery(every, () => deps.checks.all([...deps.required, ...(deps.optional ?? [])]));
  const progress = deps.progress ? atMostEvery(every, () => deps.progress!.report()) : undefined;
  const refresh = atMostEvery(every, () =>
    Promise.all(
      (deps.refresh ?? []).map((r) => r().catch(() => deps.metrics.dependencyErrors.inc({ dependency: "postgres" }))),
    ),
  );

  const readiness = {
    ...ops,
    summary: "Whether the dependencies this process needs answer",
    response: { 200: Ready, 503: Ready },
  };
  app.get("/readyz", { schema: readiness }, async (request, reply) => {
    const checks = await dependencyChecks();
    const meter = await progress?.();
    const ready = deps.required.every((d) => checks[d]?.ok) && !(deps.stallIsUnready && meter?.status === "stalled");
    // a dependency's error text (hosts, ports, driver messages) is for the operator only; the logs have it too
    const shown = request.principal?.kind === "admin" ? checks : withoutErrorText(checks);
    return reply
      .code(ready ? 200 : 503)
      .send({ status: ready ? "ready" : "not_ready", checks: shown, ...(meter ? { meter } : {}) });
  });

  if (deps.serveMetrics === false) return;
  const scrape = { ...ops, summary: "Prometheus metrics", response: { 200: MetricsText, 401: ErrorBody } };
  app.get("/metrics", { schema: scrape }, async (request, reply) => {
    if (deps.metricsToken !== undefined && !secretMatches(presentedSecret(request), deps.metricsToken)) {
      reply.header("www-authenticate", 'Bearer realm="metrics"');
      throw new AppError("unauthorized", "missing or wrong METRICS_TOKEN in the Authorization header", {
        field: "authorization",
      });
    }
    await progress?.(); // lag as of this scrape, or of one at most OPS_CACHE_MS ago
    await refresh();
    return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
}
