// Invoices with their lines and history, the period report and billing runs.
import { z } from "zod";
import { TOKEN_TYPES } from "../../domain/token-types.ts";
import { Instant, Money, Period } from "./common.ts";

export const InvoiceLine = z.object({
  position: z.number(),
  kind: z.string().meta({
    description:
      "usage, late_usage, usage_correction, price_correction, or a plan charge (fee, minimum, request_fee, credit).",
  }),
  model: z.string().nullable(),
  token_type: z
    .enum(TOKEN_TYPES)
    .nullable()
    .meta({ description: "The token type a usage line bills; null on a plan charge." }),
  quantity: z.number(),
  unit_price: Money,
  amount: Money,
  adjusts_period_id: z.uuid().nullable(),
  adjusts_event_ids: z.array(z.string()),
  reason: z.string().nullable(),
  credit_grant_id: z.uuid().nullable(),
});

export const Invoice = z
  .object({
    id: z.uuid(),
    consumer_id: z.uuid(),
    username: z.string().nullable(),
    status: z.enum(["draft", "finalized", "void"]),
    number: z.string().nullable().meta({
      description: "Gapless per issuer, given when the invoice is finalized (kept when it is voided); null on a draft.",
    }),
    issuer: z
      .object({ name: z.string(), address: z.array(z.string()) })
      .nullable()
      .meta({ description: "Who issued it, as configured when it was finalized; null on a draft." }),
    period: Period,
    finalizes_at: Instant.nullable().meta({
      description:
        "A draft of a closed period: when the billing run finalizes it (after the grace and the review window). Null otherwise.",
    }),
    currency: z.string(),
    subtotal: Money,
    credits_applied: Money.meta({
      description: "Prepaid credit on the invoice, already taken off subtotal and total.",
    }),
    total: Money,
    rounding: z.string(),
    rounding_amount: Money.meta({ description: "total - subtotal, exactly: what rounding to the minor unit added." }),
    issued_at: Instant.nullable(),
    created_at: Instant,
    lines: z.array(InvoiceLine),
    history: z.array(
      z.object({
        from: z.string().nullable(),
        to: z.string(),
        actor: z.string(),
        reason: z.string().nullable(),
        at: Instant,
      }),
    ),
  })
  .meta({ id: "Invoice" });
export type Invoice = z.infer<typeof Invoice>;
export const InvoiceList = z.object({ invoices: z.array(Invoice) });
export const InvoiceHtml = z.string().meta({ description: "The invoice document as an HTML page (text/html)." });
export const InvoicePdf = z.string().meta({ description: "The invoice document as a PDF (application/pdf)." });

export const ReportRow = z.object({
  invoice_id: z.uuid(),
  consumer_id: z.uuid(),
  username: z.string().nullable(),
  custom_id: z.string().nullable(),
  period: z.string(),
  status: z.string(),
  currency: z.string(),
  input_tokens: z.number(),
  output_tokens: z.number(),
  subtotal: Money,
  total: Money,
  issued_at: Instant.nullable(),
});
export const PeriodReport = z
  .object({
    period: z.string(),
    period_status: z.string(),
    time_zone: z.string(),
    starts_at: Instant,
    ends_at: Instant,
    invoices: z.array(ReportRow),
  })
  .meta({ description: "As JSON; with format=csv or Accept: text/csv, the same rows as CSV." });

export const RunStarted = z.object({ run_id: z.string(), period: z.string(), status_url: z.string() });
export const BillingRun = z.object({
  run_id: z.string(),
  period: z.string(),
  state: z.string(),
  consumers: z.number().nullable(),
  invoices: z.record(z.string(), z.number()).meta({ description: "The period's invoices by status." }),
  failed_reason: z.string().nullable(),
  attempts: z.number(),
});
