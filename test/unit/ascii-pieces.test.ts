// The hand-written pre-tokenizer for ASCII text splits exactly as tiktoken's patterns do: checked
// piece by piece against the pinned regex on generated ASCII text rich in the characters the
// patterns treat apart (case changes, contractions, digits, symbols, every kind of white space),
// and, where text mixes in other characters and the pattern takes over near them, by the count.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { cl100kPieceEnd, o200kPieceEnd } from "../../src/tokens/ascii-pieces.ts";
import { get_encoding } from "tiktoken";
import { counterFor } from "../../src/tokens/counter.ts";
import { pretokenizer } from "../../src/tokens/pretokenize.ts";
import { loadEncoding } from "../../src/tokens/ranks.ts";

const RUNS = Number(process.env.TOKEN_PROPERTY_RUNS ?? 400);
const SEED = Number(process.env.PROPERTY_SEED ?? 20261206);

function byRegex(pattern: RegExp, text: string): string[] {
  return [...text.matchAll(pattern)].map((m) => m[0]);
}

function byScanner(end: (t: string, i: number) => number, text: string): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; ) {
    const j = end(text, i);
    pieces.push(text.slice(i, j));
    i = j;
  }
  return pieces;
}

const fragment = fc.oneof(
  fc.constantFrom(
    " ",
    "  ",
    "\t",
    "\n",
    "\r\n",
    "\v",
    "\f",
    "\r",
    " \n ",
    "'",
    "'s",
    "'S",
    "'re",
    "'RE",
    "'Ve",
    "'ll",
    "'LL",
    "'d",
    "'m",
    "'t",
    "'x",
    "/",
    "//",
    "\n/",
    "!?",
    "...",
    "0",
    "12",
    "12345",
    "HELLO",
    "Hello",
    "hello",
    "hELLO",
    "HeLLo",
    "A",
    "a",
    "I'm",
    "don't",
    "X'S",
  ),
  fc.string({ unit: "binary-ascii", maxLength: 8 }),
  fc.string({ unit: fc.constantFrom("a", "B", " ", "'", "s", "1", ".", "\n", "\t", "/"), maxLength: 12 }),
);
const text = fc.array(fragment, { maxLength: 40 }).map((xs) => xs.join(""));
// beside characters above U+007F: letters, marks, digits, spaces and symbols the patterns class apart
const wide = fc.constantFrom("中", "é", "e\u0301", "\u00a0", "\u3000", "\u0085", "٣", "Ǆ", "ß", "€", "👍", "'ſ", "ʼ");
const mixed = fc.array(fc.oneof(fragment, wide), { maxLength: 40 }).map((xs) => xs.join(""));

describe("ASCII pre-tokenizer", () => {
  for (const encoding of ["o200k_base", "cl100k_base"] as const) {
    it(`${encoding}: text mixing ASCII with other characters counts as tiktoken counts it (property)`, () => {
      const reference = get_encoding(encoding);
      try {
        fc.assert(
          fc.property(mixed, (s) => {
            assert.equal(counterFor(encoding).count(s), reference.encode_ordinary(s).length);
          }),
          { numRuns: RUNS * 5, seed: SEED },
        );
      } finally {
        reference.free();
      }
    });
  }

  for (const [encoding, end] of [
    ["o200k_base", o200kPieceEnd],
    ["cl100k_base", cl100kPieceEnd],
  ] as const) {
    it(`${encoding}: the same pieces as the pattern (property)`, () => {
      const pattern = pretokenizer(loadEncoding(encoding).patStr);
      fc.assert(
        fc.property(text, (s) => {
          assert.deepEqual(byScanner(end, s), byRegex(pattern, s));
        }),
        { numRuns: RUNS * 5, seed: SEED },
      );
    });
  }
});
