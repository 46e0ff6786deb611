// Webhook endpoints, their delivery log, and the alerts raised.
import { z } from "zod";
import { Instant } from "./common.ts";

export const Endpoint = z.object({
  id: z.uuid(),
  url: z.string(),
  description: z.string().nullable(),
  event_types: z.array(z.string()),
  enabled: z.boolean(),
  created_at: Instant,
  disabled_at: Instant.nullable(),
});
export const CreatedEndpoint = Endpoint.extend({
  secret: z.string().meta({ description: "The signing secret, shown only in this answer." }),
});
export const EndpointList = z.object({ endpoints: z.array(Endpoint) });
export const TestSent = z.object({
  alert_id: z.uuid(),
  delivery_id: z.uuid(),
  deliveries_url: z.string().meta({ description: "The endpoint's delivery log, where the attempt shows." }),
});

export const Deliveries = z.object({
  endpoint: Endpoint,
  deliveries: z.array(
    z.object({
      id: z.uuid(),
      alert_id: z.uuid(),
      alert_type: z.string(),
      status: z.string(),
      attempts: z.number(),
      last_status_code: z.number().nullable(),
      last_error: z.string().nullable(),
      next_retry_at: Instant.nullable(),
      delivered_at: Instant.nullable(),
      created_at: Instant,
      attempt_log: z.array(
        z.object({
          attempt: z.number(),
          at: Instant,
          status_code: z.number().nullable(),
          error: z.string().nullable(),
          duration_ms: z.number().nullable(),
        }),
      ),
    }),
  ),
});

export const AlertList = z.object({
  alerts: z.array(
    z.object({
      id: z.uuid(),
      type: z.string(),
      consumer_id: z.uuid().nullable(),
      created_at: Instant,
      dispatched_at: Instant.nullable(),
      body: z.unknown().meta({ description: "The alert as sent to endpoints." }),
      deliveries: z.array(z.object({ endpoint_id: z.uuid(), status: z.string(), attempts: z.number() })),
    }),
  ),
});
