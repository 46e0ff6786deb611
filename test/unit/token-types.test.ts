// Token types: what each provider's usage shape means, and the price of each type with and without
// its own price, against a reference computed here with decimals.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Decimal } from "decimal.js";
import { costOf } from "../../src/domain/pricing.ts";
import { usageFigures } from "../../src/domain/provider-usage.ts";
import { billedTokens, COUNT_FIRST, PROVIDER_FIRST } from "../../src/domain/billing-policy.ts";
import { Decimal as MoneyDecimal } from "../../src/domain/money.ts";

const runs = Number(process.env.PROPERTY_RUNS ?? 300);

describe("provider usage shapes", () => {
  it("OpenAI chat: cached and reasoning tokens are inside prompt and completion tokens", () => {
    const f = usageFigures({
      prompt_tokens: 1200,
      completion_tokens: 900,
      prompt_tokens_details: { cached_tokens: 1024 },
      completion_tokens_details: { reasoning_tokens: 640 },
    });
    assert.deepEqual(f, { input: 1200, output: 900, cachedInput: 1024, reasoning: 640 });
  });

  it("OpenAI Responses API: input_tokens / output_tokens with their details", () => {
    const f = usageFigures({
      input_tokens: 300,
      output_tokens: 50,
      input_tokens_details: { cached_tokens: 256 },
      output_tokens_details: { reasoning_tokens: 20 },
      total_tokens: 350,
    });
    assert.deepEqual(f, { input: 300, output: 50, cachedInput: 256, reasoning: 20 });
  });

  it("Anthropic: input_tokens leaves out cache reads and writes, so the input total is their sum", () => {
    const f = usageFigures({
      input_tokens: 21,
      cache_read_input_tokens: 188_086,
      cache_creation_input_tokens: 393,
      output_tokens: 393,
    });
    assert.deepEqual(f, { input: 21 + 188_086 + 393, output: 393, cachedInput: 188_086, cacheWrite: 393 });
  });

  it("Kong 3.7's singular keys", () => {
    assert.deepEqual(usageFigures({ prompt_token: 7, completion_token: 3 }), { input: 7, output: 3 });
  });
});

describe("billed tokens", () => {
  it("our output count adds the provider's reasoning tokens once; provider-first takes its totals as they are", () => {
    const figures = {
      counted: { input: 100, output: 40 + 640 },
      provider: { input: 101, output: 700, reasoning: 640, cachedInput: 64 },
    };
    assert.deepEqual(billedTokens(figures, COUNT_FIRST).tokens, {
      input: 100,
      output: 680,
      cachedInput: 64,
      cacheWrite: 0,
      reasoning: 640,
    });
    assert.deepEqual(billedTokens(figures, PROVIDER_FIRST).tokens, {
      input: 101,
      output: 700,
      cachedInput: 64,
      cacheWrite: 0,
      reasoning: 640,
    });
  });

  it("parts larger than their totals are cut to fit: no quantity is ever negative", () => {
    const b = billedTokens(
      { counted: { input: 10, output: 5 }, provider: { cachedInput: 8, cacheWrite: 8, reasoning: 9 } },
      COUNT_FIRST,
    );
    assert.deepEqual(b.tokens, { input: 10, output: 5, cachedInput: 8, cacheWrite: 2, reasoning: 5 });
  });

  it("Kong's metering event is the last resort; no figure at all is 'none'", () => {
    const b = billedTokens({ kong_event: { input: 12 } }, COUNT_FIRST);
    assert.deepEqual([b.tokens.input, b.inputSource, b.tokens.output, b.outputSource], [12, "kong_event", 0, "none"]);
  });
});

describe("pricing every token type", () => {
  const price = fc.integer({ min: 0, max: 10 ** 9 }).map((n) => new Decimal(n).dividedBy(10 ** 12).toFixed());
  const split = fc
    .record({
      input: fc.integer({ min: 0, max: 2_000_000 }),
      output: fc.integer({ min: 0, max: 2_000_000 }),
      a: fc.double({ min: 0, max: 1, noNaN: true }),
      b: fc.double({ min: 0, max: 1, noNaN: true }),
      c: fc.double({ min: 0, max: 1, noNaN: true }),
    })
    .map(({ input, output, a, b, c }) => {
      const cachedInput = Math.floor(input * a);
      const cacheWrite = Math.floor((input - cachedInput) * b);
      return { input, output, cachedInput, cacheWrite, reasoning: Math.floor(output * c) };
    });

  it("each type at its own price when set, its parent's when not (reference in decimals)", () => {
    fc.assert(
      fc.property(
        split,
        price,
        price,
        fc.option(price, { nil: null }),
        fc.option(price, { nil: null }),
        fc.option(price, { nil: null }),
        (t, pin, pout, pc, pw, pr) => {
          const rate = {
            inputCostPerToken: new MoneyDecimal(pin),
            outputCostPerToken: new MoneyDecimal(pout),
            cachedInputCostPerToken: pc === null ? null : new MoneyDecimal(pc),
            cacheWriteCostPerToken: pw === null ? null : new MoneyDecimal(pw),
            reasoningCostPerToken: pr === null ? null : new MoneyDecimal(pr),
          };
          const reference = new Decimal(t.input - t.cachedInput - t.cacheWrite)
            .times(pin)
            .plus(new Decimal(t.cachedInput).times(pc ?? pin))
            .plus(new Decimal(t.cacheWrite).times(pw ?? pin))
            .plus(new Decimal(t.output - t.reasoning).times(pout))
            .plus(new Decimal(t.reasoning).times(pr ?? pout));
          assert.equal(costOf(t, rate).toFixed(), reference.toFixed());
        },
      ),
      { numRuns: runs },
    );
  });

  it("with only the two prices of the seed, a split call costs what input and output alone cost", () => {
    fc.assert(
      fc.property(split, price, price, (t, pin, pout) => {
        const rate = { inputCostPerToken: new MoneyDecimal(pin), outputCostPerToken: new MoneyDecimal(pout) };
        const plain = new Decimal(t.input).times(pin).plus(new Decimal(t.output).times(pout));
        assert.equal(costOf(t, rate).toFixed(), plain.toFixed());
      }),
      { numRuns: runs },
    );
  });
});
