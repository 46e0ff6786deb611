// A usage event stores the counted and provider input and output in columns and only the rest of
// its figures in the figures column. Whatever the figures, storing and reading back gives them
// again, and a call whose figures the columns hold entirely stores none.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { SourceFigures } from "../../src/domain/billing-policy.ts";
import { type FigureColumns, figuresToStore, storedFigures } from "../../src/usage/stored-figures.ts";

const RUNS = Number(process.env.PROPERTY_RUNS ?? 200) * 5;
const SEED = Number(process.env.PROPERTY_SEED ?? 20261207);

const count = fc.integer({ min: 0, max: 2 ** 31 - 1 });
const side = { input: count, output: count };
const figures: fc.Arbitrary<SourceFigures> = fc.record(
  {
    counted: fc.record(
      { ...side, input_lower_bound: fc.constant(true as const), input_parts_estimate: count },
      { requiredKeys: [] },
    ),
    provider: fc.record({ ...side, cached_input: count, cache_write: count, reasoning: count }, { requiredKeys: [] }),
    kong_event: fc.record(side, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
);

/** The columns as the meter fills them: from the figures themselves. */
const columnsOf = (f: SourceFigures): FigureColumns => ({
  countedInputTokens: f.counted?.input,
  countedOutputTokens: f.counted?.output,
  providerInputTokens: f.provider?.input,
  providerOutputTokens: f.provider?.output,
});

/** The figures without empty sources (an empty source says nothing). */
const meaningful = (f: SourceFigures) =>
  Object.fromEntries(Object.entries(f).filter(([, v]) => v && Object.keys(v).length > 0));
const sorted = (f: object) =>
  Object.fromEntries(
    Object.entries(f)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, Object.fromEntries(Object.entries(v as object).sort(([a], [b]) => a.localeCompare(b)))]),
  );

describe("stored figures", () => {
  it("reads back every figure the meter stored, from the columns and the rest (property)", () => {
    fc.assert(
      fc.property(figures, (f) => {
        const columns = columnsOf(f);
        const stored = figuresToStore(f, columns);
        assert.deepEqual(sorted(storedFigures(JSON.parse(JSON.stringify(stored)), columns)), sorted(meaningful(f)));
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it("stores nothing beside the columns when they hold every figure", () => {
    fc.assert(
      fc.property(fc.record(side, { requiredKeys: [] }), fc.record(side, { requiredKeys: [] }), (counted, provider) => {
        const f = { counted, provider };
        assert.equal(figuresToStore(f, columnsOf(f)), null);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it("keeps a figure the columns disagree with, and it wins over the column on reading (property)", () => {
    fc.assert(
      fc.property(figures, count, count, (f, ci, po) => {
        const columns = { ...columnsOf(f), countedInputTokens: ci, providerOutputTokens: po };
        const back = storedFigures(figuresToStore(f, columns), columns);
        assert.equal(back.counted?.input, f.counted?.input ?? ci);
        assert.equal(back.provider?.output, f.provider?.output ?? po);
        assert.deepEqual(sorted({ k: back.kong_event ?? {} }), sorted({ k: meaningful(f).kong_event ?? {} }));
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });
});
