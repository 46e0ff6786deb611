// What a chunk writes, decided in memory before one statement writes it: its reports grouped by
// call, each group folded into one event, and each call found stored merged with its reports.
import { alreadyMerged, mergeRefusal, type Merge } from "./merge.ts";
import type { MeteredEvent } from "./metered-event.ts";

/** A report of a stored call that may not be merged (another consumer's call), with why. */
/** kind: the dead letter's; report_conflict when not said. */
export type RefusedReport = { event: MeteredEvent; reason: string; kind?: "report_conflict" | "archived_month" };

/** A chunk's reports of one call: the first, with the chunk's later reports of it merged in. */
export type Call = { event: MeteredEvent; reports: MeteredEvent[]; folded: MeteredEvent[]; refused: RefusedReport[] };

/** Reports merged one by one onto `base`, in arrival order, as persisting them one by one would. */
function mergeOnto(base: MeteredEvent, reports: MeteredEvent[], merge: Merge) {
  let event = base;
  const merged: MeteredEvent[] = [];
  const refused: RefusedReport[] = [];
  for (const report of reports) {
    if (alreadyMerged(event, report)) continue;
    const refusal = mergeRefusal(event, report);
    if (refusal) refused.push({ event: report, reason: refusal });
    else {
      event = merge(event, report);
      merged.push(report);
    }
  }
  return { event, merged, refused };
}

/**
 * Groups the chunk's reports by call and merges each group's later reports into its first: a call
 * all of whose reports are in the chunk is then inserted once, whole, and never updated. Without
 * `merge`, a later report of a call is a duplicate.
 */
export function foldByCall(events: MeteredEvent[], merge: Merge | undefined): Call[] {
  const groups = new Map<string, MeteredEvent[]>();
  for (const e of events) {
    const group = groups.get(e.id);
    if (group) group.push(e);
    else groups.set(e.id, [e]);
  }
  return [...groups.values()].map(([first, ...later]) => {
    if (!merge) return { event: first!, reports: [first!, ...later], folded: [], refused: [] };
    const { event, merged, refused } = mergeOnto(first!, later, merge);
    return { event, reports: [first!, ...later], folded: merged, refused };
  });
}

/** A stored call with the chunk's reports merged into it. */
export type MergedCall = { before: MeteredEvent; after: MeteredEvent; merged: MeteredEvent[] };

/**
 * Calls new to the database, and calls already stored (`stored`, by id) with every report of them
 * in the chunk merged in order. A stored call none of whose reports is new needs no write.
 */
export function planWrites(calls: Call[], stored: ReadonlyMap<string, MeteredEvent>, merge: Merge | undefined) {
  const fresh: Call[] = [];
  const merges: MergedCall[] = [];
  const refused: RefusedReport[] = [];
  for (const call of calls) {
    const before = stored.get(call.event.id);
    if (!before) {
      fresh.push(call);
      continue;
    }
    if (!merge) continue;
    const done = mergeOnto(before, call.reports, merge);
    refused.push(...done.refused);
    if (done.merged.length) merges.push({ before, after: done.event, merged: done.merged });
  }
  return { fresh, merges, refused };
}
