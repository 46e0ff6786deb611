// The API shapes of webhook endpoints, their deliveries with each attempt, and alerts.
import type { WebhookEndpoints } from "../../alerts/webhook-endpoints.ts";

type Endpoint = Awaited<ReturnType<WebhookEndpoints["disable"]>>;
type Delivery = Awaited<ReturnType<WebhookEndpoints["deliveries"]>>["deliveries"][number];
type Alert = Awaited<ReturnType<WebhookEndpoints["alerts"]>>[number];

const iso = (d: Date | null) => d?.toISOString() ?? null;

export const presentEndpoint = (e: Endpoint) => ({
  id: e.id,
  url: e.url,
  description: e.description,
  event_types: e.eventTypes,
  enabled: e.enabled,
  created_at: e.createdAt.toISOString(),
  disabled_at: iso(e.disabledAt),
});

export const presentDelivery = (d: Delivery) => ({
  id: d.id,
  alert_id: d.alertId,
  alert_type: d.alert.type,
  status: d.status,
  attempts: d.attempts,
  last_status_code: d.lastStatusCode,
  last_error: d.lastError,
  next_retry_at: iso(d.nextRetryAt),
  delivered_at: iso(d.deliveredAt),
  created_at: d.createdAt.toISOString(),
  attempt_log: d.attemptLog.map((a) => ({
    attempt: a.attempt,
    at: a.at.toISOString(),
    status_code: a.statusCode,
    error: a.error,
    duration_ms: a.durationMs,
  })),
});

export const presentAlert = (a: Alert) => ({
  id: a.id,
  type: a.type,
  consumer_id: a.consumerId,
  created_at: a.createdAt.toISOString(),
  dispatched_at: iso(a.dispatchedAt),
  body: a.payload,
  deliveries: a.deliveries.map((d) => ({ endpoint_id: d.endpointId, status: d.status, attempts: d.attempts })),
});
