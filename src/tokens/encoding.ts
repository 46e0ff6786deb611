// Encoders by model. tiktoken encoders are WebAssembly objects that are costly to build, so each
// encoding is built once per process and kept.
import { get_encoding, get_encoding_name_for_model, type Tiktoken, type TiktokenEncoding, type TiktokenModel } from "tiktoken";

export type EncodingName = Extract<TiktokenEncoding, "cl100k_base" | "o200k_base" | "p50k_base" | "r50k_base">;

const encoders = new Map<string, Tiktoken>();

export function encoderFor(name: EncodingName): Tiktoken {
  let e = encoders.get(name);
  if (!e) {
    e = get_encoding(name);
    encoders.set(name, e);
  }
  return e;
}

// Dated and provider-prefixed names that tiktoken's exact-name table does not list.
const FAMILY_RULES: Array<[RegExp, EncodingName]> = [
  [/^(gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o1|o3|o4)/, "o200k_base"],
  [/^(gpt-4|gpt-3\.5|text-embedding-3|text-embedding-ada)/, "cl100k_base"],
];

/** The encoding of a model, or `fallback` for models tiktoken does not know (Llama, Mistral, ...). */
export function encodingNameFor(model: string, fallback: EncodingName): EncodingName {
  const bare = model.slice(model.lastIndexOf("/") + 1).toLowerCase();
  try {
    const name = get_encoding_name_for_model(bare as TiktokenModel);
    if (name === "cl100k_base" || name === "o200k_base" || name === "p50k_base" || name === "r50k_base") return name;
  } catch {
    /* unknown to tiktoken: try the family rules */
  }
  for (const [pattern, name] of FAMILY_RULES) if (pattern.test(bare)) return name;
  return fallback;
}

/** Tokens of a text; special-token spellings in user text count as ordinary text. */
export function countText(encoder: Tiktoken, text: string): number {
  return text === "" ? 0 : encoder.encode_ordinary(text).length;
}
