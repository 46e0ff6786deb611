// A second report of a call already stored (the same Kong request id from another source) merged
// into its usage event. Who the call belongs to and when it happened are fixed by the first
// report (its TDL slot and invoice stay put); the http-log entry, the richest report, describes
// the call (route, status, model) whenever it is one of them; every source's token figures are
// kept and the billed tokens follow the billing policy again, priced at the event's own rate.
import type { Config } from "../../../src/config.ts";
import type { Anomaly } from "../../../src/domain/anomalies.ts";
import { billedTokens, COUNT_FIRST, PROVIDER_FIRST, type SourceFigures } from "../../../src/domain/billing-policy.ts";
import { ZERO } from "../../../src/domain/money.ts";
import { costOf } from "../../../src/domain/pricing.ts";
import { HTTP_LOG_REPORT } from "../../../src/domain/reports.ts";
import { levelOf } from "../../../src/domain/tdl.ts";
import type { MeteredEvent } from "./metered-event.ts";
import { tokenColumns } from "./token-columns.ts";

export type Merge = (stored: MeteredEvent, incoming: MeteredEvent) => MeteredEvent;

/** Whether every report of `incoming` is already merged into `stored` (a redelivery). */
export const alreadyMerged = (stored: MeteredEvent, incoming: MeteredEvent) => incoming.reportedBy.every((r) => stored.reportedBy.includes(r));

function mergeFigures(a: SourceFigures, b: SourceFigures): SourceFigures {
  const out: SourceFigures = {};
  const counted = b.counted ?? a.counted;
  const provider = b.provider ?? a.provider;
  const kongEvent = a.kong_event || b.kong_event ? { ...a.kong_event, ...b.kong_event } : undefined;
  if (counted) out.counted = counted;
  if (provider) out.provider = provider;
  if (kongEvent) out.kong_event = kongEvent;
  return out;
}

const union = <T>(a: readonly T[], b: readonly T[]) => [...new Set([...a, ...b])];

export function mergerFor(config: Config): Merge {
  return (stored, incoming) => {
    const fromLog = incoming.reportedBy.includes(HTTP_LOG_REPORT) && !stored.reportedBy.includes(HTTP_LOG_REPORT);
    const [primary, other] = fromLog ? [incoming, stored] : [stored, incoming];
    const model = primary.model !== "unknown" ? primary.model : other.model;
    const figures = mergeFigures(stored.figures, incoming.figures);
    const billed = billedTokens(figures, config.metering.providerBilled(model) ? PROVIDER_FIRST : COUNT_FIRST);
    // without an http-log entry, any report of a failed status makes the call non-billable
    const billable = stored.reportedBy.includes(HTTP_LOG_REPORT) || fromLog ? primary.billable : stored.billable && incoming.billable;
    const wasFlagged = stored.anomalies.includes("no_token_count") || incoming.anomalies.includes("no_token_count");
    const anomalies: Anomaly[] = union(stored.anomalies, incoming.anomalies).filter((a) => a !== "no_token_count" && a !== "unpriced");
    if (wasFlagged && billable && billed.inputSource === "none" && billed.outputSource === "none") anomalies.push("no_token_count");
    if (billable && !stored.rate && stored.consumerId) anomalies.push("unpriced");
    return {
      ...stored,
      routeId: primary.routeId ?? other.routeId,
      routeName: primary.routeName ?? other.routeName,
      serviceId: primary.serviceId ?? other.serviceId,
      serviceName: primary.serviceName ?? other.serviceName,
      model,
      provider: primary.provider ?? other.provider,
      status: primary.status || other.status,
      upstreamStatus: primary.upstreamStatus ?? other.upstreamStatus,
      billable,
      ...tokenColumns({ ...billed, figures }),
      encoding: primary.encoding ?? other.encoding,
      cost: billable && stored.rate ? costOf(billed.tokens, stored.rate) : ZERO,
      capability: primary.capability ?? other.capability,
      level: levelOf(billed.tokens.input, config.tdl.levelBounds),
      limitFlags: union(stored.limitFlags, incoming.limitFlags),
      anomalies,
      reportedBy: union(stored.reportedBy, incoming.reportedBy),
    };
  };
}
