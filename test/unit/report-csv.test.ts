import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { REPORT_COLUMNS, type ReportRow } from "../../src/billing/report.ts";
import { toCsv } from "../../src/lib/csv.ts";
import { loadConfig } from "../../src/config.ts";

const row = (o: Partial<ReportRow>): ReportRow => ({
  invoice_id: "i", consumer_id: "c", username: "u", custom_id: null, period: "2026-11-01", status: "finalized", currency: "USD",
  input_tokens: 1, output_tokens: 2, subtotal: "0.5", total: "0.50", issued_at: null, ...o,
});

describe("report CSV", () => {
  it("has a header and CRLF rows; empty cells for nulls", () => {
    assert.equal(toCsv([row({})], REPORT_COLUMNS), `${REPORT_COLUMNS.join(",")}\r\ni,c,u,,2026-11-01,finalized,USD,1,2,0.5,0.50,\r\n`);
  });
  it("quotes commas, quotes and newlines", () => {
    assert.match(toCsv([row({ username: 'a,"b"\nc' })], REPORT_COLUMNS), /,"a,""b""\nc",/);
  });
  it("defuses cells a spreadsheet would run as formulas, but not numbers", () => {
    const csv = toCsv([row({ username: "=HYPERLINK(1)", custom_id: "@x", subtotal: "-1" })], REPORT_COLUMNS);
    assert.match(csv, /,'=HYPERLINK\(1\),'@x,/);
    assert.match(csv, /,-1,/);
  });
});

describe("billing configuration", () => {
  it("names bad billing settings", () => {
    assert.throws(() => loadConfig({ BILLING_CURRENCY: "XYZ1" }), /BILLING_CURRENCY: must be an ISO 4217 currency code/);
    assert.throws(() => loadConfig({ BILLING_PERIOD: "yearly" }), /BILLING_PERIOD/);
    assert.throws(() => loadConfig({ BILLING_ROUNDING: "down" }), /BILLING_ROUNDING/);
    assert.equal(loadConfig({ BILLING_GRACE_MINUTES: "90" }).billing.graceMs, 5_400_000);
  });
});
