// Prepaid credit: a balance with its grants, a consumer's view of it, and ledger entries.
import { z } from "zod";
import { Instant, Money } from "./common.ts";

export const CreditSummary = z.object({
  balance: Money,
  currency: z.string(),
  prepaid: z.boolean(),
  pool: z.string().optional().meta({ description: "The tag whose pool the consumer draws on, when not its own." }),
  next_expiry: z.object({ at: Instant, amount: Money }).nullable(),
});
export type CreditSummary = z.infer<typeof CreditSummary>;

export const Grant = z.object({
  id: z.uuid(),
  kind: z.string(),
  status: z.string(),
  amount: Money,
  remaining: Money,
  burnt: Money,
  expired: Money,
  voided: Money,
  priority: z.number(),
  effective_at: Instant,
  expires_at: Instant.nullable(),
  note: z.string().nullable(),
  void_reason: z.string().nullable(),
  actor: z.string(),
  created_at: Instant,
});

const Balance = {
  currency: z.string(),
  as_of: Instant,
  balance: Money,
  scheduled: Money,
  next_expiry: z.object({ at: Instant, amount: Money, grant_id: z.uuid() }).nullable(),
  grants: z.array(Grant),
};
const Owner = { consumer_id: z.uuid().optional(), tag: z.string().optional() };

export const CreditBalance = z.object({ ...Owner, ...Balance });
export const TagCredit = CreditBalance.extend({ consumers: z.number() });
export const Granted = CreditBalance.extend({ grant: Grant });
export const Voided = CreditBalance.extend({ voided: Money });

/** The credit a consumer draws on (its own, or its tag's pool), and its prepaid settings. */
export const ConsumerCredit = z.object({
  consumer_id: z.uuid(),
  pool: z.string().optional(),
  prepaid: z.boolean(),
  low_thresholds: z.array(Money),
  held: z
    .object({ amount: Money, calls: z.number() })
    .nullable()
    .meta({ description: "Held for calls in flight; null when not prepaid or Redis is away." }),
  ...Balance,
});
export type ConsumerCredit = z.infer<typeof ConsumerCredit>;

export const CreditLedger = z.object({
  ...Owner,
  currency: z.string(),
  entries: z.array(
    z.object({
      id: z.string(),
      grant_id: z.uuid(),
      kind: z.string(),
      amount: Money,
      consumer_id: z.uuid().nullable(),
      event_id: z.string().nullable(),
      at: Instant,
      recorded_at: Instant,
      note: z.string().nullable(),
    }),
  ),
  next_after: z.string().nullable(),
});
