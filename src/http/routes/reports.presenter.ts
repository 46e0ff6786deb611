// The API shape of an event the meter flagged.
import type { Reports } from "../../reports/reports.ts";

type Flagged = Awaited<ReturnType<Reports["flagged"]>>["events"][number];

export const presentFlagged = (e: Flagged) => ({
  id: e.id,
  consumer_id: e.consumerId,
  occurred_at: e.occurredAt.toISOString(),
  model: e.model,
  billable: e.billable,
  anomalies: e.anomalies,
  input_source: e.inputSource,
  output_source: e.outputSource,
});
