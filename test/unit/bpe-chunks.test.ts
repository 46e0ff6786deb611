// Long pieces are counted in chunks that join where their boundary tokens are compatible. Whatever
// the window, the chunks' tokens must be the merge of the whole piece: checked against the
// whole-piece merge on generated pieces (repetitions, vocabulary tokens, raw bytes, with windows
// of a few bytes so that every piece has many boundaries), and against tiktoken on long runs.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { get_encoding } from "tiktoken";
import { chunkedCount, mergeCount, mergeParts } from "../../src/tokens/bpe.ts";
import { counterFor } from "../../src/tokens/counter.ts";
import { ENCODINGS, loadEncoding } from "../../src/tokens/ranks.ts";

const RUNS = Number(process.env.TOKEN_PROPERTY_RUNS ?? 400);
const SEED = Number(process.env.PROPERTY_SEED ?? 20261206);

describe("token counting in chunks", () => {
  for (const encoding of ENCODINGS) {
    it(`${encoding}: chunks of any window join into the merge of the whole piece (property)`, () => {
      const { ranks } = loadEncoding(encoding);
      const vocabulary = [...ranks.keys()].filter((t) => t.length >= 2 && t.length <= 8);
      const unit = fc.oneof(
        fc.integer({ min: 0, max: vocabulary.length - 1 }).map((i) => vocabulary[i]!),
        fc.integer({ min: 0, max: 255 }).map((b) => String.fromCharCode(b)),
        fc.constantFrom("x", " ", "ab", "aab", "\xe6\x95\xb0", "\n", "=", "0"),
      );
      const run = fc.tuple(unit, fc.integer({ min: 1, max: 60 })).map(([u, k]) => u.repeat(k));
      const piece = fc.array(fc.oneof(unit, run), { minLength: 1, maxLength: 40 }).map((xs) => xs.join(""));
      fc.assert(
        fc.property(piece, fc.integer({ min: 3, max: 90 }), (s, window) => {
          const chunked = chunkedCount(s, ranks, window);
          // undefined: the chunks kept growing and the caller merges the whole piece instead
          return chunked === undefined || chunked === mergeParts(s, ranks).length;
        }),
        { numRuns: RUNS, seed: SEED },
      );
    });
  }

  it("long runs and long words count as tiktoken counts them", () => {
    let seed = 11;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const letters = Array.from({ length: 9000 }, () => String.fromCharCode(97 + Math.floor(random() * 26))).join("");
    const texts = [
      "x".repeat(9001),
      " ".repeat(8000),
      "数".repeat(3000),
      "ab".repeat(4500),
      "🎉".repeat(2500),
      "xyz".repeat(1000) + "y".repeat(5000),
      letters,
    ];
    for (const encoding of ["cl100k_base", "o200k_base"] as const) {
      const tiktoken = get_encoding(encoding);
      try {
        for (const text of texts)
          assert.equal(
            counterFor(encoding).count(text),
            tiktoken.encode_ordinary(text).length,
            `${encoding} ${JSON.stringify(text.slice(0, 8))}…`,
          );
      } finally {
        tiktoken.free();
      }
    }
  });

  it("a long piece is counted the same in chunks as merged whole", () => {
    const { ranks } = loadEncoding("o200k_base");
    for (const text of ["x".repeat(50_000), "ab ".repeat(20_000).replaceAll(" ", "b"), "\xe6\x95\xb0".repeat(20_000)])
      assert.equal(mergeCount(text, ranks), mergeParts(text, ranks).length);
  });
});
