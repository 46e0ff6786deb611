// FOCUS (FinOps Open Cost and Usage Specification) 1.2 export of per-consumer spend: one row per
// invoice line of a billing period. Lines that bill an earlier, finalized period (late usage, a
// later report's token correction, a rate correction) are ChargeClass "Correction" rows whose
// charge period is the period they correct. Costs are the exact decimal amounts of the lines.
import type { Db } from "../db/client.ts";
import { toCsv } from "../lib/csv.ts";
import { lineKind } from "../billing/line-kind.ts";

/** The FOCUS 1.2 columns (their names are the spec's), then tokenmeter's own, prefixed x_ as the spec asks. */
const FOCUS_COLUMNS = [
  "BilledCost",
  "BillingAccountId",
  "BillingAccountName",
  "BillingAccountType",
  "BillingCurrency",
  "BillingPeriodEnd",
  "BillingPeriodStart",
  "ChargeCategory",
  "ChargeClass",
  "ChargeDescription",
  "ChargeFrequency",
  "ChargePeriodEnd",
  "ChargePeriodStart",
  "ConsumedQuantity",
  "ConsumedUnit",
  "ContractedCost",
  "ContractedUnitPrice",
  "EffectiveCost",
  "InvoiceId",
  "InvoiceIssuerName",
  "ListCost",
  "ListUnitPrice",
  "PricingCategory",
  "PricingCurrency",
  "PricingQuantity",
  "PricingUnit",
  "ProviderName",
  "PublisherName",
  "ServiceCategory",
  "ServiceName",
  "ServiceSubcategory",
  "SkuId",
  "SkuPriceId",
  "SubAccountId",
  "SubAccountName",
  "x_InvoiceStatus",
  "x_LineKind",
  "x_Model",
  "x_TokenType",
  "x_AdjustedEventCount",
] as const;

export type FocusRow = Record<(typeof FOCUS_COLUMNS)[number], string | number | null>;

const iso = (d: Date) => d.toISOString();

/** Rows of every non-void invoice of the period (one consumer's when `consumerId` is given). */
export async function focusRows(db: Db, periodId: string, issuer: string, consumerId?: string): Promise<FocusRow[]> {
  const invoices = await db.invoice.findMany({
    where: { periodId, status: { not: "void" }, ...(consumerId ? { consumerId } : {}) },
    include: {
      consumer: { select: { username: true, customId: true } },
      period: true,
      lines: {
        orderBy: { position: "asc" },
        include: { adjustsPeriod: true, priceAdjustment: { select: { kind: true } } },
      },
    },
    orderBy: [{ consumerId: "asc" }],
  });
  return invoices.flatMap((inv) =>
    inv.lines.map((l): FocusRow => {
      const amount = l.amount.toFixed();
      const unitPrice = l.unitPrice.toFixed();
      const quantity = l.quantity.toString();
      const charged = l.adjustsPeriod ?? inv.period;
      const kind = lineKind(l);
      const charge = CHARGES[kind];
      return {
        BilledCost: amount,
        BillingAccountId: inv.consumerId,
        BillingAccountName: inv.consumer.username ?? inv.consumer.customId ?? inv.consumerId,
        BillingAccountType: "Consumer",
        BillingCurrency: inv.currency,
        BillingPeriodEnd: iso(inv.period.endsAt),
        BillingPeriodStart: iso(inv.period.startsAt),
        ChargeCategory: charge?.category ?? "Usage",
        ChargeClass: l.adjustsPeriodId ? "Correction" : null,
        ChargeDescription: l.direction
          ? `${l.model} ${l.direction.replace("_", " ")} tokens${kind === "usage" ? "" : ` (${kind.replaceAll("_", " ")})`}`
          : kind === "credit"
            ? `${l.model} from grant ${l.creditGrantId}`
            : `${l.model} ${kind.replaceAll("_", " ")}`,
        ChargeFrequency: charge?.frequency ?? "Usage-Based",
        ChargePeriodEnd: iso(charged.endsAt),
        ChargePeriodStart: iso(charged.startsAt),
        ConsumedQuantity: charge && !charge.consumed ? null : quantity,
        ConsumedUnit: charge ? (charge.consumed ?? null) : "Tokens",
        ContractedCost: amount,
        ContractedUnitPrice: unitPrice,
        EffectiveCost: amount,
        InvoiceId: inv.id,
        InvoiceIssuerName: issuer,
        ListCost: amount,
        ListUnitPrice: unitPrice,
        PricingCategory: "Standard",
        PricingCurrency: inv.currency,
        PricingQuantity: quantity,
        PricingUnit: charge?.unit ?? "Tokens",
        ProviderName: issuer,
        PublisherName: issuer,
        ServiceCategory: "AI and Machine Learning",
        ServiceName: "LLM API",
        ServiceSubcategory: "Generative AI",
        SkuId: `${l.model}:${l.direction ?? kind}`,
        SkuPriceId: `${l.model}:${l.direction ?? kind}:${unitPrice}`,
        SubAccountId: null,
        SubAccountName: null,
        x_InvoiceStatus: inv.status,
        x_LineKind: kind,
        x_Model: l.model,
        x_TokenType: l.direction,
        x_AdjustedEventCount: l.adjustsEventIds.length,
      };
    }),
  );
}

/** FOCUS columns of a plan's charges (an amount, not tokens). */
const CHARGES: Record<string, { category: string; frequency: string; unit: string; consumed?: string }> = {
  request_fee: { category: "Usage", frequency: "Usage-Based", unit: "Requests", consumed: "Requests" },
  tier_adjustment: { category: "Adjustment", frequency: "Usage-Based", unit: "Adjustment" },
  plan_fee: { category: "Purchase", frequency: "Recurring", unit: "Billing Period" },
  minimum_top_up: { category: "Purchase", frequency: "Recurring", unit: "Billing Period" },
  credit: { category: "Credit", frequency: "One-Time", unit: "Credit" },
};

export function focusCsv(rows: FocusRow[]): string {
  return toCsv(rows, FOCUS_COLUMNS);
}
