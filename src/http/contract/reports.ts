// Drift, flagged events, lineage from invoice lines to events and from an event to its price.
import { z } from "zod";
import { TOKEN_TYPES } from "../../domain/token-types.ts";
import { Instant, Money } from "./common.ts";

const Compared = z.object({ counted: z.number(), provider: z.number(), drift: z.number().nullable() });
const Pair = z.object({ counted: z.number().nullable(), provider: z.number().nullable() });
export const DriftReport = z.object({
  from: Instant,
  to: Instant,
  time_zone: z.string(),
  threshold: z.number(),
  groups: z.array(
    z.object({
      consumer_id: z.uuid().nullable(),
      model: z.string().nullable(),
      day: z.string(),
      compared_calls: z.number(),
      input: Compared,
      output: Compared,
      events_beyond_threshold: z.number(),
    }),
  ),
  events_beyond_threshold: z.array(
    z.object({
      id: z.string(),
      consumer_id: z.uuid().nullable(),
      model: z.string().nullable(),
      occurred_at: Instant,
      input: Pair,
      output: Pair,
      drift: z.number(),
    }),
  ),
});

export const FlaggedEvents = z.object({
  events: z.array(
    z.object({
      id: z.string(),
      consumer_id: z.uuid().nullable(),
      occurred_at: Instant,
      model: z.string().nullable(),
      billable: z.boolean(),
      anomalies: z.array(z.string()),
      input_source: z.string().nullable(),
      output_source: z.string().nullable(),
    }),
  ),
  next_cursor: z.string().nullable(),
});

export const LineEvents = z.object({
  invoice_id: z.uuid(),
  position: z.number(),
  model: z.string().nullable(),
  token_type: z.string().nullable(),
  quantity: z.number(),
  unit_price: Money,
  kind: z.string(),
  events: z.array(
    z.object({
      id: z.string(),
      occurred_at: Instant,
      quantity: z.number().meta({ description: "The event's quantity of the line's token type (1 on a fee line)." }),
      amount: Money.meta({ description: "The event's share of the line: quantity x the line's unit price." }),
      cost: Money.meta({ description: "The whole call's cost, every token type together." }),
    }),
  ),
  next_cursor: z.string().nullable(),
});
export type LineEvents = z.infer<typeof LineEvents>;

const TypeLine = z.object({
  quantity: z.number(),
  source: z.string().nullable(),
  unit_price: Money.nullable(),
  cost: Money,
});
export const ExplainedEvent = z.object({
  id: z.string(),
  consumer_id: z.uuid().nullable(),
  occurred_at: Instant,
  model: z.string().nullable(),
  billable: z.boolean(),
  reported_by: z.array(z.string()),
  tokens: z.object(Object.fromEntries(TOKEN_TYPES.map((t) => [t, TypeLine]))),
  figures: z.record(z.string(), z.record(z.string(), z.unknown())).meta({ description: "Every source's figures." }),
  cost: Money,
  rate_id: z.uuid().nullable(),
  price_id: z.uuid().nullable(),
  priced_by: z.unknown().meta({ description: "Which price priced the call and why; null: unpriced or not billable." }),
  encoding: z.string().nullable(),
  metadata_version: z.number().nullable(),
  limit_flags: z.array(z.string()),
  anomalies: z.array(z.string()),
  invoice: z.object({ id: z.uuid(), status: z.string() }).nullable(),
});

export const FocusCsv = z.string().meta({ description: "FOCUS 1.2 CSV, one row per invoice line." });
