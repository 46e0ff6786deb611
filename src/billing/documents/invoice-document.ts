// What an invoice document says, as text ready to lay out: the issuer and the customer, the
// period, the usage lines grouped by model and token type, the other lines (late usage,
// corrections, plan charges, credit), then subtotal, rounding and total. The HTML page and the
// PDF are two layouts of this one model, so they cannot disagree.
import { periodJson } from "../../domain/billing-period.ts";
import { Decimal } from "../../domain/money.ts";
import { formatExactMoney, formatMoney } from "../../domain/money-format.ts";
import type { InvoiceWithLines } from "../invoice.repository.ts";
import { lineKind } from "../line-kind.ts";

export type DocumentLine = { label: string; quantity: string; unitPrice: string; amount: string };
type ModelGroup = { model: string; lines: DocumentLine[]; amount: string };

export type InvoiceDocument = {
  title: string;
  status: "draft" | "finalized" | "void";
  number: string | null;
  issuer: { name: string; address: string[] } | null;
  customer: { name: string; id: string };
  period: { key: string; from: string; to: string; timeZone: string };
  issuedOn: string | null;
  currency: string;
  usage: ModelGroup[];
  other: DocumentLine[];
  subtotal: string;
  rounding: string;
  total: string;
  note: string | null;
};

const TYPE_LABEL: Record<string, string> = {
  input: "Input tokens",
  cached_input: "Cached input tokens",
  cache_write: "Cache write tokens",
  output: "Output tokens",
  reasoning: "Reasoning tokens",
};
const KIND_LABEL: Record<string, string> = {
  late_usage: "Late usage of an earlier period",
  usage_correction: "Usage correction",
  price_correction: "Price correction",
  tier_adjustment: "Volume tier adjustment",
  plan_fee: "Plan fee",
  minimum_top_up: "Minimum charge top-up",
  request_fee: "Request fees",
  credit: "Prepaid credit applied",
};

const count = (n: number | bigint) => Number(n).toLocaleString("en-US");
/** A local date as people read it: 2026-11-01 reads 1 Nov 2026 (the key is already local). */
const dateOf = (isoDate: string) =>
  new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeZone: "UTC" }).format(new Date(`${isoDate}T00:00:00Z`));
const localDate = (at: Date, timeZone: string) => at.toLocaleDateString("en-CA", { timeZone });

type Line = InvoiceWithLines["lines"][number];

function documentLine(l: Line, currency: string, label: string): DocumentLine {
  const fee = l.charge === "plan_fee" || l.charge === "minimum_top_up" || l.charge === "credit";
  return {
    label,
    quantity: fee ? "" : count(l.quantity),
    unitPrice: fee ? "" : formatExactMoney(l.unitPrice.toFixed(), currency),
    amount: formatMoney(l.amount.toFixed(), currency),
  };
}

function usageGroups(lines: Line[], currency: string): ModelGroup[] {
  const byModel = new Map<string, Line[]>();
  for (const l of lines) byModel.set(l.model, [...(byModel.get(l.model) ?? []), l]);
  return [...byModel].map(([model, ls]) => ({
    model,
    lines: ls.map((l) => documentLine(l, currency, TYPE_LABEL[l.direction ?? ""] ?? l.direction ?? "")),
    amount: formatMoney(ls.reduce((s, l) => s.plus(l.amount.toFixed()), new Decimal(0)).toFixed(), currency),
  }));
}

function otherLabel(l: Line): string {
  const kind = lineKind(l);
  const what = [l.model || null, l.direction ? TYPE_LABEL[l.direction]?.toLowerCase() : null].filter(Boolean);
  const reason = l.priceAdjustment?.reason ? ` (${l.priceAdjustment.reason})` : "";
  return `${KIND_LABEL[kind] ?? kind}${what.length ? `: ${what.join(", ")}` : ""}${reason}`;
}

export function invoiceDocument(inv: InvoiceWithLines): InvoiceDocument {
  const usage = inv.lines.filter((l) => lineKind(l) === "usage");
  const other = inv.lines.filter((l) => lineKind(l) !== "usage");
  const period = periodJson(inv.period);
  const lastDay = new Date(inv.period.endsAt.getTime() - 1);
  const subtotal = inv.subtotal.toFixed();
  const rounding = new Decimal(inv.total.toFixed()).minus(subtotal).toFixed();
  return {
    title: inv.status === "draft" ? "Draft invoice" : inv.status === "void" ? "Void invoice" : "Invoice",
    status: inv.status,
    number: inv.number,
    issuer: inv.issuerName ? { name: inv.issuerName, address: inv.issuerAddress?.split("\n") ?? [] } : null,
    customer: { name: inv.consumer.username ?? inv.consumerId, id: inv.consumerId },
    period: {
      key: period.key,
      from: dateOf(period.key),
      to: dateOf(localDate(lastDay, inv.period.timeZone)),
      timeZone: inv.period.timeZone,
    },
    issuedOn: inv.issuedAt ? dateOf(localDate(inv.issuedAt, inv.period.timeZone)) : null,
    currency: inv.currency,
    usage: usageGroups(usage, inv.currency),
    other: other.map((l) => documentLine(l, inv.currency, otherLabel(l))),
    subtotal: formatExactMoney(subtotal, inv.currency),
    rounding: formatExactMoney(rounding, inv.currency),
    total: formatMoney(inv.total.toFixed(), inv.currency),
    note:
      inv.status === "draft"
        ? "Draft: the figures may change until the invoice is finalized; it has no number yet."
        : inv.status === "void"
          ? "This invoice is void and is not payable."
          : null,
  };
}
