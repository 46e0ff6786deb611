// What an orchestrator and a monitoring system ask a process: /livez (the process runs),
// /readyz (the dependencies it needs answer; the meter's progress), /metrics (Prometheus).
// /healthz is kept as the old name of /livez.
import type { FastifyInstance } from "fastify";
import type { Dependency, DependencyChecks } from "../../ops/health.ts";
import type { MeterProgress } from "../../ops/meter-progress.ts";
import type { Metrics } from "../../ops/metrics.ts";

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
};

function withoutErrorText<C extends { error?: string }>(checks: Record<string, C>): Record<string, C> {
  return Object.fromEntries(Object.entries(checks).map(([name, c]) => [name, c.error === undefined ? c : { ...c, error: "unavailable" }]));
}

export async function opsRoutes(app: FastifyInstance, deps: OpsDeps): Promise<void> {
  const live = async () => ({ status: "ok" });
  app.get("/livez", live);
  app.get("/healthz", live);

  app.get("/readyz", async (request, reply) => {
    const checks = await deps.checks.all([...deps.required, ...(deps.optional ?? [])]);
    const meter = deps.progress ? await deps.progress.report() : undefined;
    const ready = deps.required.every((d) => checks[d]?.ok) && !(deps.stallIsUnready && meter?.status === "stalled");
    // a dependency's error text (hosts, ports, driver messages) is for the operator only; the logs have it too
    const shown = request.principal?.kind === "admin" ? checks : withoutErrorText(checks);
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not_ready", checks: shown, ...(meter ? { meter } : {}) });
  });

  app.get("/metrics", async (_request, reply) => {
    await deps.progress?.report(); // lag as of this scrape
    await Promise.all((deps.refresh ?? []).map((r) => r().catch(() => deps.metrics.dependencyErrors.inc({ dependency: "postgres" }))));
    return reply.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
}
