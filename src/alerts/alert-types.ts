// What an alert is, shared by the outbox that records it and the service that delivers it.

export const ALERT_TYPES = [
  "budget.threshold_crossed",
  "budget.exhausted",
  "credits.low",
  "credits.exhausted",
  "credits.expiring",
  "credits.expired",
  "invoice.drafted",
  "invoice.finalized",
  "invoice.unpriced_calls",
  "dead_letter.recorded",
  // sent only to the endpoint an operator is testing, on request
  "webhook.test",
] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

/** The body every endpoint receives for this alert, the same bytes on every retry. */
export type AlertBody = { type: AlertType; timestamp: string; data: Record<string, unknown> };
