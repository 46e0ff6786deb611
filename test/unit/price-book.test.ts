// Which entry of a price book prices a model at a time: exact, then the undated name, then the
// longest pattern, then the default entry; each entry's version in force at the call's time.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { resolvePrice, type Plan } from "../../src/domain/consumer-pricing.ts";
import { Decimal } from "../../src/domain/money.ts";
import { PriceBookIndex, undatedModel, type BookPrice } from "../../src/domain/price-book.ts";

const runs = Number(process.env.PROPERTY_RUNS ?? 300);
let n = 0;
function entry(model: string, input: string, from = "1970-01-01T00:00:00Z"): BookPrice {
  return {
    id: `p${n++}`,
    bookId: "b",
    model,
    effectiveFrom: new Date(from),
    inputCostPerToken: new Decimal(input),
    outputCostPerToken: new Decimal(input).times(4),
  };
}
const AT = new Date("2026-11-20T00:00:00Z");

describe("price book matching", () => {
  const book = new PriceBookIndex([
    entry("gpt-4o", "0.0000025"),
    entry("gpt-4o-mini*", "0.00000015"),
    entry("gpt-4o*", "0.000005"),
    entry("claude-3-5-*", "0.000003"),
    entry("*", "0.00001"),
    entry("GPT-4O", "0.000002", "2026-12-01T00:00:00Z"), // a later version of the exact entry, case folded
  ]);
  const matched = (model: string, at = AT) => {
    const m = book.match(model, at);
    return [m?.entry, m?.match, m?.price.inputCostPerToken.toFixed()];
  };

  it("prefers exact, then the undated name, then the longest pattern, then the default", () => {
    assert.deepEqual(matched("gpt-4o"), ["gpt-4o", "exact", "0.0000025"]);
    assert.deepEqual(matched("GPT-4o-2024-08-06"), ["gpt-4o", "dated", "0.0000025"]);
    assert.deepEqual(matched("gpt-4o-mini-2024-07-18"), ["gpt-4o-mini*", "pattern", "0.00000015"]);
    assert.deepEqual(matched("gpt-4o-audio-preview"), ["gpt-4o*", "pattern", "0.000005"]);
    assert.deepEqual(matched("claude-3-5-sonnet@20240620"), ["claude-3-5-*", "pattern", "0.000003"]);
    assert.deepEqual(matched("llama-3.1-70b"), ["*", "default", "0.00001"]);
  });

  it("takes each entry's version in force at the call's time", () => {
    assert.deepEqual(matched("gpt-4o", new Date("2026-12-02T00:00:00Z")), ["gpt-4o", "exact", "0.000002"]);
    assert.equal(new PriceBookIndex([entry("gpt-4o", "1", "2027-01-01T00:00:00Z")]).match("gpt-4o", AT), undefined);
  });

  it("reads release dates in the forms providers use", () => {
    assert.deepEqual(
      ["gpt-4o-2024-08-06", "claude-3-5-sonnet-20241022", "claude-3-5-sonnet@20240620", "gpt-4o", "o1-mini"].map(
        undatedModel,
      ),
      ["gpt-4o", "claude-3-5-sonnet", "claude-3-5-sonnet", undefined, undefined],
    );
  });

  it("a named plan price beats the consumer's own rate, which beats the plan's default entry", () => {
    const own = [
      {
        id: "r",
        effectiveFrom: new Date(0),
        inputCostPerToken: new Decimal("0.5"),
        outputCostPerToken: new Decimal("1"),
      },
    ];
    const plan: Plan = { bookId: "b", bookName: "std", version: 1, markupPercent: new Decimal("10"), index: book };
    assert.equal(
      resolvePrice(plan, own, "gpt-4o", AT)?.inputCostPerToken.toFixed(),
      "0.00000275",
      "the named price, marked up 10%",
    );
    assert.equal(resolvePrice(plan, own, "llama-3", AT)?.pricedBy.source, "consumer_rate");
    assert.equal(resolvePrice(plan, [], "llama-3", AT)?.pricedBy.source, "plan");
    assert.equal(resolvePrice(undefined, [], "llama-3", AT), undefined, "nothing prices it: unpriced, never zero");
  });

  it("property: the match is the in-force entry of the highest precedence, whatever the book", () => {
    const name = fc.constantFrom(
      "gpt-4o",
      "gpt-4o-mini",
      "gpt-4o-mini-2024-07-18",
      "claude-3-5-sonnet-20241022",
      "o1",
      "llama-3",
    );
    const pattern = fc.constantFrom("gpt-*", "gpt-4o*", "gpt-4o-mini*", "claude-*", "*", "o1*", "*-mini*");
    const day = fc
      .integer({ min: 0, max: 60 })
      .map((d) => new Date(Date.UTC(2026, 10, 1) + d * 86_400_000).toISOString());
    const prices = fc.array(
      fc.record({ model: fc.oneof(name, pattern), from: day, input: fc.integer({ min: 0, max: 10 ** 6 }) }),
      { maxLength: 12 },
    );
    fc.assert(
      fc.property(prices, name, day, (rows, model, at) => {
        const entries = rows.map((r) => entry(r.model, new Decimal(r.input).div(1e9).toFixed(), r.from));
        const got = new PriceBookIndex(entries).match(model, new Date(at));
        // the reference: rank every entry that could match, keep those with a version in force
        const rank = (e: BookPrice) =>
          e.model === model
            ? 4
            : e.model === undatedModel(model)
              ? 3
              : e.model === "*"
                ? 1
                : e.model.includes("*") &&
                    new RegExp(
                      `^${e.model
                        .split("*")
                        .map((p) => p.replace(/[.-]/g, "\\$&"))
                        .join(".*")}$`,
                    ).test(model)
                  ? 2
                  : 0;
        const inForce = entries.filter((e) => rank(e) > 0 && e.effectiveFrom <= new Date(at));
        if (inForce.length === 0) return assert.equal(got, undefined);
        const best = Math.max(...inForce.map(rank));
        const candidates = inForce.filter((e) => rank(e) === best);
        const literal = (e: BookPrice) => e.model.replaceAll("*", "").length;
        const longest = Math.max(...candidates.map(literal));
        const winners = candidates.filter((e) => literal(e) === longest);
        // among the winning entry's versions, the latest in force
        assert.ok(got, `expected a match for ${model}`);
        assert.ok(
          winners.some((w) => w.model === got.entry),
          `${got.entry} is not among ${winners.map((w) => w.model).join(", ")}`,
        );
        const latest = winners
          .filter((w) => w.model === got.entry)
          .sort((a, b) => +b.effectiveFrom - +a.effectiveFrom)[0]!;
        assert.equal(+got.price.effectiveFrom, +latest.effectiveFrom);
      }),
      { numRuns: runs },
    );
  });
});
