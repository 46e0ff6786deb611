// Money formatting reads the exact decimal: over random amounts, the minor-unit form is the
// amount rounded half away from zero to the currency's digits, and the exact form keeps every
// digit; no float ever rounds what the API said.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { formatExactMoney, formatMoney } from "../../src/domain/money-format.ts";
import { Decimal, minorUnitDigits } from "../../src/domain/money.ts";

const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);
// up to 18 integer digits and 12 decimals: past what a double carries exactly
const amount = fc
  .tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 10n ** 18n }), fc.stringMatching(/^\d{0,12}$/))
  .map(([neg, int, frac]) => `${neg ? "-" : ""}${int}${frac ? `.${frac}` : ""}`);
const currency = fc.constantFrom("USD", "EUR", "KRW", "JPY", "BHD");

/** The digits a formatted amount shows, as a plain decimal string. */
const digitsOf = (s: string) => s.replace(/[^\d.-]/g, "");

describe("money formatting", () => {
  it("the minor unit: rounded half away from zero to the currency's digits, exactly", () => {
    fc.assert(
      fc.property(amount, currency, (a, c) => {
        const expected = new Decimal(a).toDecimalPlaces(minorUnitDigits(c), Decimal.ROUND_HALF_UP);
        const shown = new Decimal(digitsOf(formatMoney(a, c)));
        assert.ok(shown.equals(expected), `${a} ${c}: ${formatMoney(a, c)}`);
      }),
      { numRuns: RUNS },
    );
  });

  it("the exact form keeps every digit", () => {
    fc.assert(
      fc.property(amount, currency, (a, c) => {
        assert.ok(new Decimal(digitsOf(formatExactMoney(a, c))).equals(new Decimal(a)), formatExactMoney(a, c));
      }),
      { numRuns: RUNS },
    );
  });

  it("reads as people expect", () => {
    assert.equal(formatMoney("249.997986014", "USD"), "$250.00");
    assert.equal(formatMoney("1234567.5", "KRW"), "₩1,234,568");
    assert.equal(formatMoney("-0.001", "USD"), "$0.00");
    assert.equal(formatMoney("-12.5", "EUR"), "-€12.50");
    assert.equal(formatExactMoney("0.0000025", "USD"), "$0.0000025");
    assert.equal(formatExactMoney("3", "USD"), "$3.00");
    assert.equal(formatMoney(null, "USD"), "—");
  });
});
