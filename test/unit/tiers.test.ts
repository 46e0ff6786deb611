// Tiered, volume and package rating of a period's quantity, against a reference that prices token
// by token: graduated is each token at the tier its number falls in, volume every token at the
// tier the quantity reaches, package the quantity rounded up to whole packages.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Decimal } from "../../src/domain/money.ts";
import { ratedAmount, type Tiering } from "../../src/domain/tiers.ts";
import { TOKEN_TYPES } from "../../src/domain/token-types.ts";

const runs = Number(process.env.PROPERTY_RUNS ?? 300);
const prices = (input: string, output: string) => ({
  inputCostPerToken: new Decimal(input),
  outputCostPerToken: new Decimal(output),
});
const BASE = prices("0.000002", "0.000008");

describe("tier rating", () => {
  it("graduated and volume across a boundary, and package rounding, by hand", () => {
    const tiers = [
      { above: 1_000, prices: prices("0.000001", "0.000004") },
      { above: 5_000, prices: prices("0.0000005", "0.000002") },
    ];
    const q = 6_000n; // 1,000 at base, 4,000 at tier 1, 1,000 at tier 2
    assert.equal(ratedAmount({ mode: "graduated", tiers }, BASE, "input", q, null).toFixed(), "0.0065");
    assert.equal(ratedAmount({ mode: "volume", tiers }, BASE, "input", q, null).toFixed(), "0.003");
    assert.equal(
      ratedAmount({ mode: "volume", tiers }, BASE, "input", 1_000n, null).toFixed(),
      "0.002",
      "exactly at a boundary: still the tier below",
    );
    assert.equal(
      ratedAmount({ mode: "package", packageSize: 1_000 }, BASE, "output", 1_001n, null).toFixed(),
      "0.016",
      "two packages",
    );
    assert.equal(
      ratedAmount({ mode: "graduated", tiers }, BASE, "input", q, new Decimal(10)).toFixed(),
      "0.00715",
      "markup on every tier",
    );
  });

  it("property: the rating equals a token-by-token reference for every mode and token type", () => {
    const price = fc.integer({ min: 0, max: 10 ** 6 }).map((n) => new Decimal(n).div(10 ** 9));
    const tierArb = fc.uniqueArray(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 4 }).chain((bounds) =>
      fc.tuple(
        ...[...bounds]
          .sort((a, b) => a - b)
          .map((above) =>
            fc.record({
              above: fc.constant(above),
              prices: fc.record({
                inputCostPerToken: price,
                outputCostPerToken: price,
                reasoningCostPerToken: fc.option(price, { nil: null }),
              }),
            }),
          ),
      ),
    );
    const tiering: fc.Arbitrary<Tiering> = fc.oneof(
      tierArb.map((tiers) => ({ mode: "graduated" as const, tiers })),
      tierArb.map((tiers) => ({ mode: "volume" as const, tiers })),
      fc.integer({ min: 1, max: 100 }).map((packageSize) => ({ mode: "package" as const, packageSize })),
    );
    fc.assert(
      fc.property(tiering, fc.integer({ min: 0, max: 600 }), fc.constantFrom(...TOKEN_TYPES), (t, q, type) => {
        const all = t.mode === "package" ? [{ above: 0, prices: BASE }] : [{ above: 0, prices: BASE }, ...t.tiers];
        const own = (p: (typeof all)[number]["prices"]): Decimal => {
          const v = {
            input: p.inputCostPerToken,
            output: p.outputCostPerToken,
            cached_input: null,
            cache_write: null,
            reasoning: (p as { reasoningCostPerToken?: Decimal | null }).reasoningCostPerToken ?? null,
          }[type];
          return v ?? (type === "reasoning" ? p.outputCostPerToken : p.inputCostPerToken);
        };
        let expected = new Decimal(0);
        if (t.mode === "package") expected = own(BASE).times(Math.ceil(q / t.packageSize) * t.packageSize);
        else if (t.mode === "volume")
          expected = q === 0 ? expected : own(all.filter((x) => x.above < q).at(-1)!.prices).times(q);
        else for (let n = 1; n <= q; n++) expected = expected.plus(own(all.filter((x) => x.above < n).at(-1)!.prices));
        assert.equal(ratedAmount(t, BASE, type, BigInt(q), null).toFixed(), expected.toFixed());
      }),
      { numRuns: runs },
    );
  });
});
