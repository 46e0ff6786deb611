// tiktoken's rank tables, read from the files the npm package ships (tiktoken/encoders/*.json), so
// the counts are tiktoken's by construction. Each table is one "! <first rank> <base64 token> ..."
// sequence; a token's rank is its position after the marker.
import { createRequire } from "node:module";

/** The encodings tiktoken ships, the only ones anything here names. */
export const ENCODINGS = ["cl100k_base", "o200k_base", "p50k_base", "r50k_base"] as const;
export type EncodingName = (typeof ENCODINGS)[number];

/** Loaded before the first call needs them: today's models use these two. */
export const COMMON_ENCODINGS: readonly EncodingName[] = ["o200k_base", "cl100k_base"];

export type EncodingData = {
  /** Token bytes as a latin1 string (one char per byte) -> rank. */
  ranks: Map<string, number>;
  /** tiktoken's pre-tokenizer pattern, in Rust regex syntax. */
  patStr: string;
};

const require = createRequire(import.meta.url);

function parseRanks(bpeRanks: string): Map<string, number> {
  const ranks = new Map<string, number>();
  const fields = bpeRanks.split(/\s+/);
  let rank = 0;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (f === "") continue;
    if (f === "!") {
      rank = Number(fields[++i]);
      continue;
    }
    ranks.set(Buffer.from(f, "base64").toString("latin1"), rank++);
  }
  return ranks;
}

export function loadEncoding(name: EncodingName): EncodingData {
  const file = require(`tiktoken/encoders/${name}.json`) as { bpe_ranks: string; pat_str: string };
  return { ranks: parseRanks(file.bpe_ranks), patStr: file.pat_str };
}
