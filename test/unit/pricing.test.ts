import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Decimal, parsePrice } from "../../src/domain/money.ts";
import { costOf, rateAt, type Rate } from "../../src/domain/pricing.ts";
import { NO_TOKENS } from "../../src/domain/token-types.ts";

// The seed's llama2-client rates.
const SEED = { inputCostPerToken: new Decimal("0.000000083"), outputCostPerToken: new Decimal("0.00000033") };

describe("decimal pricing", () => {
  it("prices the seed's rates exactly", () => {
    assert.equal(costOf({ ...NO_TOKENS, input: 1000, output: 500 }, SEED).toFixed(), "0.000248");
    assert.equal(costOf({ ...NO_TOKENS, input: 24000, output: 8000 }, SEED).toFixed(), "0.004632");
    assert.equal(costOf({ ...NO_TOKENS, input: 1, output: 1 }, SEED).toFixed(), "0.000000413");
  });

  it("sums a million calls with no float drift", () => {
    let total = new Decimal(0);
    for (let i = 0; i < 1_000_000; i++) total = total.plus(costOf({ ...NO_TOKENS, input: 1, output: 0 }, SEED));
    assert.equal(total.toFixed(), "0.083");
    let float = 0;
    for (let i = 0; i < 1_000_000; i++) float += 0.000000083;
    assert.notEqual(String(float), "0.083", "a float sum would have drifted");
  });

  it("keeps 12 decimals exact in totals above 10^8", () => {
    const total = new Decimal("123456789.123456789012").plus("0.000000000001");
    assert.equal(total.toFixed(), "123456789.123456789013");
  });

  it("reads prices from JSON numbers by their decimal spelling and from strings", () => {
    assert.equal((parsePrice(0.000000083) as Decimal).toFixed(), "0.000000083");
    assert.equal((parsePrice(0.00000033) as Decimal).toFixed(), "0.00000033");
    assert.equal((parsePrice("0.000000000001") as Decimal).toFixed(), "0.000000000001");
  });

  it("rejects negative prices, more than 12 decimals and non-numbers", () => {
    assert.deepEqual(parsePrice(-1), { error: "must be zero or positive" });
    assert.deepEqual(parsePrice("0.0000000000001"), { error: "must have at most 12 decimal places" });
    assert.ok("error" in (parsePrice("abc") as object));
    assert.ok("error" in (parsePrice(null) as object));
  });
});

describe("rate in force", () => {
  const r = (id: string, from: string): Rate => ({ id, effectiveFrom: new Date(from), ...SEED });
  const history = [r("b", "2026-11-15T00:00:00Z"), r("a", "1970-01-01T00:00:00Z"), r("c", "2026-12-01T00:00:00Z")];

  it("is the latest rate that took effect at or before the call", () => {
    assert.equal(rateAt(history, new Date("2026-11-14T23:59:59Z"))?.id, "a");
    assert.equal(rateAt(history, new Date("2026-11-15T00:00:00Z"))?.id, "b");
    assert.equal(rateAt(history, new Date("2027-01-01T00:00:00Z"))?.id, "c");
  });

  it("is none before the first rate", () => {
    assert.equal(rateAt([r("x", "2026-01-01T00:00:00Z")], new Date("2025-12-31T00:00:00Z")), undefined);
  });
});
