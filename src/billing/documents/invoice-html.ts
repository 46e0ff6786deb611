// The invoice document as one self-contained HTML page, for the screen and for print (A4, no
// page chrome). Its only style is the inline sheet below; the CSP that serves it names the
// sheet's hash, so the page runs no script and loads nothing.
import { createHash } from "node:crypto";
import type { DocumentLine, InvoiceDocument } from "./invoice-document.ts";

const INVOICE_STYLE = `
body { font: 10.5pt/1.4 system-ui, "DejaVu Sans", Arial, sans-serif; color: #111827; margin: 24px auto; max-width: 760px; padding: 0 16px; }
h1 { font-size: 20pt; margin: 0 0 4px; }
.head { display: flex; justify-content: space-between; gap: 24px; align-items: flex-start; margin-bottom: 20px; }
.issuer { text-align: right; }
.muted { color: #4b5563; }
.note { border: 1px solid #b45309; background: #fffbeb; padding: 6px 10px; margin: 0 0 16px; }
dl { display: grid; grid-template-columns: max-content auto; gap: 2px 16px; margin: 0 0 16px; }
dt { color: #4b5563; } dd { margin: 0; }
table { width: 100%; border-collapse: collapse; margin: 0 0 12px; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 6px; border-bottom: 1px solid #d1d5db; text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid #111827; font-size: 9pt; text-transform: uppercase; letter-spacing: 0.03em; }
.num { text-align: right; white-space: nowrap; }
.model th { padding-top: 10px; border-bottom: none; }
.sum td, .sum th { border-bottom: none; }
.total th, .total td { border-top: 2px solid #111827; font-weight: 700; font-size: 12pt; }
@media print { body { margin: 0; max-width: none; } @page { size: A4; margin: 16mm; } tr { break-inside: avoid; } }
`;

/** The CSP source that allows exactly this style sheet. */
export const INVOICE_STYLE_HASH = `'sha256-${createHash("sha256").update(INVOICE_STYLE).digest("base64")}'`;

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

const row = (l: DocumentLine) =>
  `<tr><td>${esc(l.label)}</td><td class="num">${esc(l.quantity)}</td><td class="num">${esc(l.unitPrice)}</td><td class="num">${esc(l.amount)}</td></tr>`;

function linesTable(d: InvoiceDocument): string {
  const usage = d.usage
    .map(
      (g) =>
        `<tr class="model"><th colspan="3" scope="rowgroup">${esc(g.model)}</th><td class="num">${esc(g.amount)}</td></tr>${g.lines.map(row).join("")}`,
    )
    .join("");
  const other = d.other.length
    ? `<tr class="model"><th colspan="4" scope="rowgroup">Other charges and credits</th></tr>${d.other.map(row).join("")}`
    : "";
  return `<table aria-label="Invoice lines">
<thead><tr><th scope="col">Description</th><th scope="col" class="num">Quantity</th><th scope="col" class="num">Unit price</th><th scope="col" class="num">Amount</th></tr></thead>
<tbody>${usage}${other}</tbody>
<tfoot>
<tr class="sum"><th colspan="3" scope="row" class="num">Subtotal</th><td class="num">${esc(d.subtotal)}</td></tr>
<tr class="sum"><th colspan="3" scope="row" class="num">Rounding to the currency's minor unit</th><td class="num">${esc(d.rounding)}</td></tr>
<tr class="total"><th colspan="3" scope="row" class="num">Total due (${esc(d.currency)})</th><td class="num" data-total>${esc(d.total)}</td></tr>
</tfoot></table>`;
}

export function invoiceHtml(d: InvoiceDocument): string {
  const issuer = d.issuer
    ? `<strong>${esc(d.issuer.name)}</strong>${d.issuer.address.map((l) => `<br>${esc(l)}`).join("")}`
    : "";
  const title = `${d.title}${d.number ? ` ${d.number}` : ""}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><style>${INVOICE_STYLE}</style></head>
<body><main>
<div class="head"><div><h1>${esc(title)}</h1><div class="muted">${esc(d.period.from)} – ${esc(d.period.to)}</div></div><div class="issuer">${issuer}</div></div>
${d.note ? `<p class="note">${esc(d.note)}</p>` : ""}
<dl>
<dt>Billed to</dt><dd>${esc(d.customer.name)} <span class="muted">(${esc(d.customer.id)})</span></dd>
<dt>Invoice number</dt><dd>${esc(d.number ?? "—")}</dd>
<dt>Issued</dt><dd>${esc(d.issuedOn ?? "not yet")}</dd>
<dt>Billing period</dt><dd>${esc(d.period.from)} – ${esc(d.period.to)} (${esc(d.period.timeZone)})</dd>
<dt>Currency</dt><dd>${esc(d.currency)}</dd>
</dl>
${linesTable(d)}
</main></body></html>
`;
}
