// An http-log entry as a call record: its consumer object, route, status, model, payloads and every
// figure the provider reported, each read once here.
import type { KongConsumerRef } from "../domain/kong-log.ts";
import {
  aiBlocks,
  finalUpstreamStatus,
  holdIdOf,
  isBillable,
  modelOf,
  providerCounts,
  proxyBlock,
  type KongLog,
} from "../domain/kong-log.ts";
import { usageFigures } from "../domain/provider-usage.ts";
import { HTTP_LOG_REPORT } from "../domain/reports.ts";
import { responseUsageOf } from "../tokens/response.ts";
import type { CallRecord, ReadOptions } from "./call-record.ts";
import { payloadsOf } from "./payloads.ts";

/** Who Kong authenticated: only the log's `consumer` object, never a header a client could have sent. */
function ownerOf(log: KongLog): KongConsumerRef | undefined {
  const c = log.consumer;
  if (!c || (!c.id && !c.username && !c.custom_id)) return undefined;
  return { kongId: c.id || undefined, username: c.username || undefined, customId: c.custom_id || undefined };
}

export function callFromKongLog(log: KongLog, id: string, receivedAt: Date, o: ReadOptions): CallRecord {
  const blocks = aiBlocks(log);
  const proxy = proxyBlock(blocks);
  const payloads = payloadsOf(log, proxy, o.bodyPaths);
  const c = log.consumer;
  return {
    id,
    receivedAt,
    reportedBy: HTTP_LOG_REPORT,
    owner: ownerOf(log),
    ownerLabel: c?.username ?? c?.id ?? c?.custom_id,
    occurredAt: new Date(log.started_at),
    status: log.response.status,
    upstreamStatus: log.upstream_status,
    billable: isBillable(log),
    reachedUpstream: finalUpstreamStatus(log) !== null && log.source !== "kong",
    route: { id: log.route?.id, name: log.route?.name },
    service: { id: log.service?.id, name: log.service?.name },
    model: modelOf(log, proxy, payloads.request?.body, o.modelByRoute),
    provider: proxy?.provider,
    payloads,
    providerFigures: providerCounts(blocks, usageFigures(responseUsageOf(payloads.response?.body))),
    expectsTokens: true,
    holdId: holdIdOf(log),
  };
}
