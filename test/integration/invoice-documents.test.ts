// Invoice documents: the HTML page and the server-rendered PDF say the same things as the
// invoice in the API (number, issuer, lines by model and token type, subtotal, rounding,
// total), escape whatever a consumer's name holds, and a consumer key reads only its own.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { getDocument } from "pdfjs-dist/legacy/build/pdf.mjs";
import { invoiceDocument } from "../../src/billing/documents/invoice-document.ts";
import { invoiceHtml } from "../../src/billing/documents/invoice-html.ts";
import { draftInvoice } from "../../src/billing/invoice.service.ts";
import { findInvoice } from "../../src/billing/invoice.repository.ts";
import { recordPeriod } from "../../src/billing/period.service.ts";
import { periodOfKey } from "../../src/domain/billing-period.ts";
import { kongLog } from "../fixtures/kong-logs.ts";
import { meterLogs } from "../helpers/billing.ts";
import { admin, startStack, type Stack } from "../helpers/stack.ts";

let stack: Stack;
let invoiceId: string;
let draftId: string;
let ownerKey: string;
let otherKey: string;
const NAME = "Ωmega Кирилл & <Sons>";

async function pdfText(bytes: Buffer): Promise<string> {
  const pdf = await getDocument({ data: new Uint8Array(bytes), useSystemFonts: false }).promise;
  const texts: string[] = [];
  for (let i = 1; i <= pdf.numPages; i++) {
    const content = await (await pdf.getPage(i)).getTextContent();
    texts.push(content.items.map((it) => ("str" in it ? it.str : "")).join(" "));
  }
  return texts.join("\n");
}

async function consumerWithUsage(username: string, periodKey: string, finalize: boolean) {
  const kongId = randomUUID();
  const res = await admin(stack, "POST", "/v1/consumers", {
    username,
    kong_id: kongId,
    metadata: { input_cost_per_token: "0.0000025", output_cost_per_token: "0.00001" },
  });
  assert.equal(res.statusCode, 201, res.body);
  const id = res.json().id as string;
  const at = Date.parse(`${periodKey}T12:00:00Z`) + 86_400_000;
  const usage = (model: string, p: number, c: number) =>
    kongLog({
      consumer: { id: kongId },
      startedAt: at,
      ai: {
        proxy: {
          usage: { prompt_tokens: p, completion_tokens: c },
          meta: { request_model: model, response_model: model },
        },
      },
    });
  await meterLogs(stack, [usage("gpt-4o", 1234, 567), usage("gpt-4o-mini", 99_001, 3), usage("gpt-4o", 7, 1)]);
  const period = await recordPeriod(stack.db, periodOfKey(periodKey, "monthly", "UTC"));
  const r = await draftInvoice(stack.db, {
    consumerId: id,
    periodId: period.id,
    settings: stack.config.billing,
    now: new Date(),
    finalize,
  });
  const key = (await admin(stack, "POST", `/v1/consumers/${id}/api-keys`, {})).json().key as string;
  return { id, invoiceId: r.invoiceId!, key };
}

const get = (url: string, key?: string) =>
  stack.app.inject({ method: "GET", url, headers: key ? { authorization: `Bearer ${key}` } : undefined });

before(async () => {
  stack = await startStack(
    { BILLING_TIMEZONE: "UTC", BILLING_ISSUER_NAME: "Gateway GmbH", BILLING_ISSUER_ADDRESS: "Hauptstraße 1\\nBerlin" },
    { meter: false },
  );
  const owner = await consumerWithUsage(NAME, "2026-09-01", true);
  invoiceId = owner.invoiceId;
  ownerKey = owner.key;
  const other = await consumerWithUsage(`other-${randomUUID().slice(0, 6)}`, "2026-09-01", false);
  draftId = other.invoiceId;
  otherKey = other.key;
});
after(() => stack.close());

describe("invoice documents", () => {
  it("the HTML page: number, issuer, lines by model, subtotal, rounding and total, the name escaped", async () => {
    const inv = (await admin(stack, "GET", `/v1/invoices/${invoiceId}`)).json();
    const res = await get(`/v1/invoices/${invoiceId}/document.html`, ownerKey);
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers["content-type"]), /^text\/html/);
    assert.match(String(res.headers["content-security-policy"]), /default-src 'none'; style-src 'sha256-/);
    const html = res.body;
    assert.ok(html.includes(`Invoice ${inv.number}`));
    assert.ok(html.includes("Gateway GmbH") && html.includes("Hauptstraße 1<br>Berlin"));
    assert.ok(html.includes("Ωmega Кирилл &amp; &lt;Sons&gt;"), "the name is escaped");
    assert.ok(!html.includes("<Sons>"));
    for (const model of ["gpt-4o", "gpt-4o-mini"]) assert.ok(html.includes(`>${model}</th>`), model);
    assert.ok(html.includes("Input tokens") && html.includes("Output tokens"));
    // 1241 input and 568 output tokens of gpt-4o, 99001 and 3 of the mini: the subtotal exact, the total in cents
    assert.equal(inv.subtotal, "0.256315");
    assert.equal(inv.total, "0.26");
    assert.ok(html.includes("$0.256315"), "the exact subtotal");
    assert.ok(html.includes("$0.003685"), "the rounding");
    assert.ok(html.includes('<td class="num" data-total>$0.26</td>'), "the total in the minor unit");
    assert.ok(html.includes("$0.0000025"), "the unit price at full precision");
  });

  it("the PDF says the same, rendered by the server", async () => {
    const inv = (await admin(stack, "GET", `/v1/invoices/${invoiceId}`)).json();
    const res = await get(`/v1/invoices/${invoiceId}/document.pdf`, ownerKey);
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers["content-type"], "application/pdf");
    assert.equal(res.headers["content-disposition"], `attachment; filename="invoice-${inv.number}.pdf"`);
    assert.equal(res.rawPayload.subarray(0, 5).toString(), "%PDF-");
    const text = await pdfText(res.rawPayload);
    for (const s of [
      inv.number,
      "Gateway GmbH",
      "Hauptstraße 1",
      NAME,
      "gpt-4o-mini",
      "$0.256315",
      "$0.003685",
      "$0.26",
    ])
      assert.ok(text.includes(s), `the PDF lacks ${s}: ${text}`);
  });

  it("a draft's document says it is a draft and has no number", async () => {
    const html = (await admin(stack, "GET", `/v1/invoices/${draftId}/document.html`)).body;
    assert.ok(html.includes("<title>Draft invoice</title>"));
    assert.ok(html.includes("it has no number yet"));
    const text = await pdfText((await admin(stack, "GET", `/v1/invoices/${draftId}/document.pdf`)).rawPayload);
    assert.ok(text.includes("Draft invoice"), text);
  });

  it("a consumer key reads its own documents only", async () => {
    for (const kind of ["html", "pdf"]) {
      assert.equal((await get(`/v1/invoices/${invoiceId}/document.${kind}`, otherKey)).statusCode, 404);
      assert.equal((await get(`/v1/invoices/${draftId}/document.${kind}`, otherKey)).statusCode, 200);
      assert.equal((await get(`/v1/invoices/${invoiceId}/document.${kind}`)).statusCode, 401);
    }
  });

  it("no name, model or issuer text escapes the HTML page's markup", async () => {
    const inv = (await findInvoice(stack.db, invoiceId))!;
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.string(), fc.string(), (name, model, issuer) => {
        const doc = invoiceDocument({
          ...inv,
          issuerName: issuer || "x",
          consumer: { username: name },
          lines: inv.lines.map((l) => ({ ...l, model })),
        });
        const html = invoiceHtml(doc);
        // every tag on the page is one of the page's own
        const tags = new Set([...html.matchAll(/<\/?([a-z0-9]+)/g)].map((m) => m[1]));
        const own = [
          "html",
          "head",
          "meta",
          "title",
          "style",
          "body",
          "main",
          "div",
          "h1",
          "p",
          "dl",
          "dt",
          "dd",
          "span",
          "strong",
          "br",
          "table",
          "thead",
          "tbody",
          "tfoot",
          "tr",
          "th",
          "td",
        ];
        for (const t of tags) assert.ok(own.includes(t!), `a tag <${t}> came from the data`);
      }),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 200) },
    );
  });
});
