// A second report of a call already stored (the same Kong request id from another source) merged
// into its usage event. Who the call belongs to and when it happened are fixed by the first
// report (its TDL slot and invoice stay put): a report naming another consumer is refused (a
// dead letter), never merged. Reports rank by source: Kong's http-log entry, written by the
// gateway itself, above CloudEvents. A later report fills what the event lacks and replaces a
// figure, or the billable status, only when it outranks every report already merged; the
// billed tokens then follow the billing policy again, priced at the event's own rate.
import type { Config } from "../../../src/config.ts";
import type { Anomaly } from "../../../src/domain/anomalies.ts";
import {
  billedTokens,
  COUNT_FIRST,
  lowerBoundAnomalies,
  PROVIDER_FIRST,
  type SourceFigures,
} from "../../../src/domain/billing-policy.ts";
import { ZERO } from "../../../src/domain/money.ts";
import { costOf } from "../../../src/domain/pricing.ts";
import { HTTP_LOG_REPORT } from "../../../src/domain/reports.ts";
import { levelOf } from "../../../src/domain/tdl.ts";
import type { MeteredEvent } from "./metered-event.ts";
import { tokenColumns } from "./token-columns.ts";

export type Merge = (stored: MeteredEvent, incoming: MeteredEvent) => MeteredEvent;

/** Whether every report of `incoming` is already merged into `stored` (a redelivery). */
export const alreadyMerged = (stored: MeteredEvent, incoming: MeteredEvent) =>
  incoming.reportedBy.every((r) => stored.reportedBy.includes(r));

/** A report's standing: the gateway's own log above anything posted as a CloudEvent. */
const rankOf = (report: string) => (report === HTTP_LOG_REPORT ? 2 : 1);
const rankOfAll = (reports: readonly string[]) => Math.max(0, ...reports.map(rankOf));

/** Why `incoming` may not be merged into `stored`, or undefined when it may. */
export function mergeRefusal(stored: MeteredEvent, incoming: MeteredEvent): string | undefined {
  if (stored.consumerId && incoming.consumerId && stored.consumerId !== incoming.consumerId) {
    return `report ${incoming.reportedBy.join(", ")} of call ${incoming.id} names consumer ${incoming.consumerId}, but the call belongs to ${stored.consumerId}: a report never moves a call between consumers`;
  }
  return undefined;
}

/**
 * Each figure (input, output, ... of each kind) as stored, unless the stored event lacks it or the
 * incoming report outranks it. Kong's metering events report one call in parts (prompt tokens in
 * one event, completion tokens in another), so parts fill in field by field.
 */
function mergeFigures(a: SourceFigures, b: SourceFigures, incomingOutranks: boolean): SourceFigures {
  const out: Record<string, object> = {};
  for (const kind of ["counted", "provider", "kong_event"] as const) {
    const [x, y] = [a[kind], b[kind]];
    if (x === undefined || y === undefined) {
      if (x ?? y) out[kind] = (x ?? y)!;
    } else out[kind] = incomingOutranks ? { ...x, ...y } : { ...y, ...x };
  }
  return out as SourceFigures;
}

const union = <T>(a: readonly T[], b: readonly T[]) => [...new Set([...a, ...b])];

export function mergerFor(config: Config): Merge {
  return (stored, incoming) => {
    const outranks = rankOfAll(incoming.reportedBy) > rankOfAll(stored.reportedBy);
    const [primary, other] = outranks ? [incoming, stored] : [stored, incoming];
    const model = primary.model !== "unknown" ? primary.model : other.model;
    const figures = mergeFigures(stored.figures, incoming.figures, outranks);
    const billed = billedTokens(figures, config.metering.providerBilled(model) ? PROVIDER_FIRST : COUNT_FIRST);
    const billable = primary.billable;
    const wasFlagged = stored.anomalies.includes("no_token_count") || incoming.anomalies.includes("no_token_count");
    // what depends on the figures is decided again from the merged ones
    const refigured: readonly Anomaly[] = [
      "no_token_count",
      "unpriced",
      "billed_from_lower_bound",
      "reported_below_count",
    ];
    const anomalies: Anomaly[] = union(stored.anomalies, incoming.anomalies).filter((a) => !refigured.includes(a));
    if (wasFlagged && billable && billed.inputSource === "none" && billed.outputSource === "none")
      anomalies.push("no_token_count");
    if (billable) anomalies.push(...lowerBoundAnomalies(figures, billed));
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
