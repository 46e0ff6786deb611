// The invoice document as a PDF (A4), drawn by pdfkit in this process: no browser at run time.
// DejaVu Sans is embedded (subset to the glyphs used), so names and currency signs in Latin,
// Greek, Cyrillic and many other scripts print as they are.
import { createRequire } from "node:module";
import PDFDocument from "pdfkit";
import type { DocumentLine, InvoiceDocument } from "./invoice-document.ts";

const require = createRequire(import.meta.url);
const FONT = require.resolve("dejavu-fonts-ttf/ttf/DejaVuSans.ttf");
const BOLD = require.resolve("dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf");

const MARGIN = 48;
const WIDTH = 595.28 - 2 * MARGIN; // A4 in points
// columns: description, quantity, unit price, amount (right edges for the numbers)
const COLS = { label: 0, quantity: 250, unitPrice: 330, amount: 430 } as const;
const COL_WIDTH = { label: 245, quantity: 75, unitPrice: 95, amount: WIDTH - 430 } as const;

type Doc = PDFKit.PDFDocument;

function ensureRoom(doc: Doc, height: number) {
  if (doc.y + height > doc.page.height - MARGIN) doc.addPage();
}

function tableRow(
  doc: Doc,
  cells: { label: string; quantity?: string; unitPrice?: string; amount?: string },
  bold = false,
) {
  doc.font(bold ? "bold" : "body").fontSize(9);
  const height = doc.heightOfString(cells.label, { width: COL_WIDTH.label }) + 4;
  ensureRoom(doc, height);
  const y = doc.y;
  doc.text(cells.label, MARGIN + COLS.label, y, { width: COL_WIDTH.label });
  for (const col of ["quantity", "unitPrice", "amount"] as const)
    if (cells[col]) doc.text(cells[col], MARGIN + COLS[col], y, { width: COL_WIDTH[col], align: "right" });
  doc.y = y + height;
  doc.x = MARGIN;
}

function rule(doc: Doc, weight = 0.5) {
  doc
    .moveTo(MARGIN, doc.y)
    .lineTo(MARGIN + WIDTH, doc.y)
    .lineWidth(weight)
    .strokeColor("#111827")
    .stroke();
  doc.y += 3;
}

function header(doc: Doc, d: InvoiceDocument) {
  const top = doc.y;
  doc
    .font("bold")
    .fontSize(18)
    .text(`${d.title}${d.number ? ` ${d.number}` : ""}`, MARGIN, top, { width: 300 });
  doc.font("body").fontSize(9).fillColor("#4b5563").text(`${d.period.from} – ${d.period.to}`).fillColor("#111827");
  const below = doc.y;
  if (d.issuer) {
    doc
      .font("bold")
      .fontSize(10)
      .text(d.issuer.name, MARGIN + 300, top, { width: WIDTH - 300, align: "right" });
    doc.font("body").fontSize(9);
    for (const line of d.issuer.address) doc.text(line, { width: WIDTH - 300, align: "right" });
  }
  doc.y = Math.max(below, doc.y) + 14;
  doc.x = MARGIN;
  if (d.note) {
    doc.font("bold").fontSize(9).fillColor("#92400e").text(d.note, { width: WIDTH }).fillColor("#111827");
    doc.moveDown(0.8);
  }
  const facts: Array<[string, string]> = [
    ["Billed to", `${d.customer.name} (${d.customer.id})`],
    ["Invoice number", d.number ?? "—"],
    ["Issued", d.issuedOn ?? "not yet"],
    ["Billing period", `${d.period.from} – ${d.period.to} (${d.period.timeZone})`],
    ["Currency", d.currency],
  ];
  for (const [k, v] of facts) {
    const y = doc.y;
    doc.font("body").fontSize(9).fillColor("#4b5563").text(k, MARGIN, y, { width: 90 });
    doc.fillColor("#111827").text(v, MARGIN + 95, y, { width: WIDTH - 95 });
    doc.x = MARGIN;
  }
  doc.moveDown(1);
}

/** A line under its model or section heading, indented. */
const lineCells = (l: DocumentLine) => ({ ...l, label: `   ${l.label}` });

export async function invoicePdf(d: InvoiceDocument, createdAt: Date): Promise<Buffer> {
  const doc = new PDFDocument({
    size: "A4",
    margin: MARGIN,
    info: {
      Title: `${d.title}${d.number ? ` ${d.number}` : ""}`,
      Author: d.issuer?.name ?? "",
      CreationDate: createdAt,
    },
  });
  const chunks: Buffer[] = [];
  doc.on("data", (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    doc.on("end", resolve);
    doc.on("error", reject);
  });
  doc.registerFont("body", FONT);
  doc.registerFont("bold", BOLD);
  header(doc, d);
  tableRow(doc, { label: "Description", quantity: "Quantity", unitPrice: "Unit price", amount: "Amount" }, true);
  rule(doc, 1);
  for (const g of d.usage) {
    tableRow(doc, { label: g.model, amount: g.amount }, true);
    for (const l of g.lines) tableRow(doc, lineCells(l));
  }
  if (d.other.length) {
    tableRow(doc, { label: "Other charges and credits" }, true);
    for (const l of d.other) tableRow(doc, lineCells(l));
  }
  rule(doc);
  tableRow(doc, { label: "Subtotal", amount: d.subtotal });
  tableRow(doc, { label: "Rounding to the currency's minor unit", amount: d.rounding });
  rule(doc, 1);
  tableRow(doc, { label: `Total due (${d.currency})`, amount: d.total }, true);
  doc.end();
  await done;
  return Buffer.concat(chunks);
}
