// An http-log entry as a Measured call: its consumer object, route, status, model and every token
// figure the entry carries.
import type { Config } from "../../../src/config.ts";
import { aiBlocks, finalUpstreamStatus, holdIdOf, isBillable, modelOf, proxyBlock, type KongLog } from "../../../src/domain/kong-log.ts";
import { capabilityOf } from "../../../src/domain/limits.ts";
import { HTTP_LOG_REPORT } from "../../../src/domain/reports.ts";
import type { Metrics } from "../../../src/ops/metrics.ts";
import { kongRefOf } from "./identify.ts";
import type { Measured } from "./measured.ts";
import { payloadsOf, tokenize } from "./tokenize.ts";

export function measureHttpLog(log: KongLog, config: Config, metrics?: Metrics): Measured {
  const m = config.metering;
  const blocks = aiBlocks(log); // parsed once: every stage below reads them
  const proxy = proxyBlock(blocks);
  const payloads = payloadsOf(log, proxy, { request: m.requestBodyPaths, response: m.responseBodyPaths });
  const model = modelOf(log, proxy, payloads.request?.body, m.modelByRoute);
  const billable = isBillable(log);
  const t0 = performance.now();
  const tokens = tokenize(blocks, model, payloads, { fallback: m.defaultEncoding, budgetMs: m.countBudgetMs, providerFirst: m.providerBilled(model), billable });
  metrics?.tokenizeSeconds.observe((performance.now() - t0) / 1000);
  const c = log.consumer;
  return {
    consumerRef: kongRefOf(log),
    occurredAt: new Date(log.started_at),
    routeId: log.route?.id,
    routeName: log.route?.name,
    serviceId: log.service?.id,
    serviceName: log.service?.name,
    model,
    provider: proxy?.provider,
    status: log.response.status,
    upstreamStatus: log.upstream_status,
    billable,
    tokens,
    capability: capabilityOf([log.route?.name, log.route?.id, model], m.capabilityMap),
    reachedUpstream: finalUpstreamStatus(log) !== null && log.source !== "kong",
    reportedBy: HTTP_LOG_REPORT,
    consumerLabel: c?.username ?? c?.id ?? c?.custom_id,
    holdId: holdIdOf(log),
  };
}
