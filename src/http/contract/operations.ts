// Dead letters, Kong's ingest answers, the gateway's answers and the probes.
import { z } from "zod";
import { Instant, LocalDate, TdlMatrix } from "./common.ts";

export const DeadLetter = z.object({
  id: z.uuid(),
  stage: z.string(),
  kind: z.string(),
  reason: z.string(),
  failed_at: Instant,
  recorded_at: Instant,
  source: z.object({ topic: z.string(), partition: z.number().nullable(), offset: z.string().nullable() }).nullable(),
  entry_index: z.number().nullable(),
  event_id: z.string().nullable(),
  truncated: z.boolean(),
  replay_count: z.number(),
  last_replayed_at: Instant.nullable(),
  payload: z.string().optional().meta({ description: "The entry as received; in the answer for one dead letter." }),
});
export const DeadLetterList = z.object({ dead_letters: z.array(DeadLetter), next_after: z.string().nullable() });
export const ReplayReport = z.object({
  resubmitted: z.number(),
  outcomes: z.array(
    z.object({
      id: z.uuid(),
      stage: z.string(),
      outcome: z.enum(["resubmitted", "still_refused"]),
      detail: z.string().optional(),
    }),
  ),
});

export const IngestAnswer = z.object({
  accepted: z.number(),
  rejected: z.array(z.object({ index: z.number(), reason: z.string() })),
});

export const AuthorizeDecision = z.object({
  allow: z.boolean(),
  status: z.union([z.literal(200), z.literal(402), z.literal(403), z.literal(429)]),
  reason: z.looseObject({ code: z.string(), message: z.string() }).nullable(),
  consumer_id: z.uuid().nullable(),
  metadata_version: z.number().nullable(),
  checks: z.record(z.string(), z.unknown()),
  headers: z.record(z.string(), z.string()),
  body_fields: z.record(z.string(), z.number()).optional(),
});

/** The original plugin's answer, field for field; prices are JSON numbers written as exact decimals. */
export const UserMetadata = z.object({
  id: z.string().nullable(),
  provider: z.string().nullable(),
  tags: z.array(z.string()),
  tdl_matrix: TdlMatrix,
  capabilities: z.array(z.number()),
  max_input_tokens: z.number().nullable(),
  max_output_tokens: z.number().nullable(),
  input_cost_per_token: z.number().nullable(),
  output_cost_per_token: z.number().nullable(),
});
export const GatewayTdlMatrix = z.object({
  id: z.string().nullable(),
  date: LocalDate,
  time_zone: z.string(),
  tdl_matrix: TdlMatrix,
  observed_tdl_matrix: TdlMatrix,
});

export const Live = z.object({ status: z.literal("ok") });
const Check = z.object({ ok: z.boolean(), latency_ms: z.number(), error: z.string().optional() });
export const Ready = z.object({
  status: z.enum(["ready", "not_ready"]),
  checks: z.record(z.string(), Check),
  meter: z
    .object({
      status: z.enum(["ok", "lagging", "stalled", "unknown"]),
      partitions: z.array(
        z.object({
          partition: z.number(),
          end: z.number(),
          committed: z.number(),
          lag: z.number(),
          stalled: z.boolean(),
          unchanged_for_ms: z.number(),
        }),
      ),
      error: z.string().optional(),
      sampled_at: Instant.optional(),
    })
    .optional()
    .meta({ description: "The meter's progress per partition (its consumer group on the raw topic)." }),
});
export const MetricsText = z.string().meta({ description: "Prometheus text format." });
