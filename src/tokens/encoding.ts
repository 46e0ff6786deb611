// Which encoding a model uses: tiktoken's own model table (the file its package ships), then family
// rules for the dated and provider-prefixed names it does not list. Model names come from logs, so
// the table is a Map: a model called "__proto__" or "constructor" is just an unknown name.
import { createRequire } from "node:module";
import { ENCODINGS, type EncodingName } from "./ranks.ts";

export type { EncodingName } from "./ranks.ts";

const KNOWN: ReadonlySet<string> = new Set(ENCODINGS);
const MODEL_TABLE = new Map(
  Object.entries(createRequire(import.meta.url)("tiktoken/model_to_encoding.json") as Record<string, string>).filter(
    ([, e]) => KNOWN.has(e),
  ) as Array<[string, EncodingName]>,
);

const FAMILY_RULES: Array<[RegExp, EncodingName]> = [
  [/^(gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o1|o3|o4)/, "o200k_base"],
  [/^(gpt-4|gpt-3\.5|text-embedding-3|text-embedding-ada)/, "cl100k_base"],
];

/** The encoding tiktoken tokenizes the model with; undefined for models it does not know (Claude, Llama, ...). */
export function knownEncodingOf(model: string): EncodingName | undefined {
  const bare = model.slice(model.lastIndexOf("/") + 1).toLowerCase();
  const listed = MODEL_TABLE.get(bare);
  if (listed) return listed;
  for (const [pattern, name] of FAMILY_RULES) if (pattern.test(bare)) return name;
  return undefined;
}

/** The encoding of a model, or `fallback` for models tiktoken does not know (Llama, Mistral, ...). */
export function encodingNameFor(model: string, fallback: EncodingName): EncodingName {
  return knownEncodingOf(model) ?? fallback;
}
