import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { REPORT_COLUMNS, type ReportRow } from "../../src/billing/report.ts";
import fc from "fast-check";
import { toCsv } from "../../src/lib/csv.ts";
import { loadConfig } from "../../src/config.ts";

const row = (o: Partial<ReportRow>): ReportRow => ({
  invoice_id: "i",
  consumer_id: "c",
  username: "u",
  custom_id: null,
  period: "2026-11-01",
  status: "finalized",
  currency: "USD",
  input_tokens: 1,
  output_tokens: 2,
  subtotal: "0.5",
  total: "0.50",
  issued_at: null,
  ...o,
});

describe("report CSV", () => {
  it("has a header and CRLF rows; empty cells for nulls", () => {
    assert.equal(
      toCsv([row({})], REPORT_COLUMNS),
      `${REPORT_COLUMNS.join(",")}\r\ni,c,u,,2026-11-01,finalized,USD,1,2,0.5,0.50,\r\n`,
    );
  });
  it("quotes commas, quotes and newlines", () => {
    assert.match(toCsv([row({ username: 'a,"b"\nc' })], REPORT_COLUMNS), /,"a,""b""\nc",/);
  });
  it("defuses cells a spreadsheet would run as formulas, but not numbers", () => {
    const csv = toCsv([row({ username: "=HYPERLINK(1)", custom_id: "@x", subtotal: "-1" })], REPORT_COLUMNS);
    assert.match(csv, /,'=HYPERLINK\(1\),'@x,/);
    assert.match(csv, /,-1,/);
  });
  it("defuses formulas behind leading TAB, CR, spaces or control characters, and full-width triggers", () => {
    for (const bad of ["\t=1+1", "\r=1", " =cmd|' /C calc'!A0", "\u0000@SUM(1)", "\t", "\rplain", "＝1+1", "＋1"]) {
      const csv = toCsv([row({ username: bad })], REPORT_COLUMNS);
      const cell = csv.split("\r\n")[1]!.split(",")[2]!;
      assert.ok(cell.replace(/^"/, "").startsWith("'"), `${JSON.stringify(bad)} became ${JSON.stringify(cell)}`);
    }
  });
  it("property: every text cell a spreadsheet would read as a formula starts with a quote mark", () => {
    const piece = fc.constantFrom(
      "=",
      "+",
      "-",
      "@",
      "\t",
      "\r",
      " ",
      "\u0000",
      "\u001f",
      "＝",
      "＠",
      "1",
      "a",
      "(",
      ".",
      "e",
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 6 }).map((p) => p.join("")),
        (text) => {
          const line = toCsv([row({ username: text })], REPORT_COLUMNS)
            .split("\r\n")
            .slice(1)
            .join("\r\n");
          // the cell as a spreadsheet receives it: unquoted (it is the third column; the earlier ones hold no commas)
          const raw = line.slice("i,c,".length);
          const value = raw.startsWith('"')
            ? raw.slice(1, raw.indexOf('",')).replace(/""/g, '"')
            : raw.slice(0, raw.indexOf(","));
          const trigger = /^[\s\p{Cc}]*[=+\-@＝＋－＠]/u.test(value) || /^[\t\r]/.test(value);
          const number = value.trim() !== "" && Number.isFinite(Number(value));
          if (trigger && !number) assert.ok(value.startsWith("'"), JSON.stringify(value));
        },
      ),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 300) },
    );
  });
});

describe("billing configuration", () => {
  it("names bad billing settings", () => {
    assert.throws(
      () => loadConfig({ BILLING_CURRENCY: "XYZ1" }),
      /BILLING_CURRENCY: must be an ISO 4217 currency code/,
    );
    assert.throws(() => loadConfig({ BILLING_PERIOD: "yearly" }), /BILLING_PERIOD/);
    assert.throws(() => loadConfig({ BILLING_ROUNDING: "down" }), /BILLING_ROUNDING/);
    assert.equal(loadConfig({ BILLING_GRACE_MINUTES: "90" }).billing.graceMs, 5_400_000);
  });
});
