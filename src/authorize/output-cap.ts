// The most output a request can make the upstream generate, read from the body the way the
// upstream APIs read it. A hold is only as strong as this number, so every field any supported API
// takes as an output cap or a number of completions is read, and anything an upstream could read
// as "unlimited" (negative, zero, fractional, out of range, not a number) refuses the call before
// anything is held: llama.cpp and Ollama take -1 for "no limit", so a negative is never a small cap.

type Json = Record<string, unknown>;

/** Where the APIs take an output cap, per completion. */
export const OUTPUT_CAP_FIELDS = [
  "max_tokens", // OpenAI chat and completions, Anthropic, Mistral, Cohere
  "max_completion_tokens", // OpenAI chat
  "max_output_tokens", // OpenAI responses
  "max_tokens_to_sample", // Anthropic text completions
  "generationConfig.maxOutputTokens", // Gemini (proto JSON accepts either spelling)
  "generation_config.max_output_tokens",
  "inferenceConfig.maxTokens", // Bedrock Converse
  "parameters.max_new_tokens", // Hugging Face text generation
  "options.num_predict", // Ollama
  "n_predict", // llama.cpp
] as const;

/** Where the APIs take how many completions to generate: each is up to the cap long. */
export const CHOICE_FIELDS = [
  "n",
  "best_of",
  "generationConfig.candidateCount",
  "generation_config.candidate_count",
] as const;

/** The largest output cap read as a number: int32, the widest any upstream parses. */
export const MAX_OUTPUT_CAP = 2_147_483_647;
/** OpenAI's own limit on `n`; more completions than this is refused rather than held. */
export const MAX_CHOICES = 128;

export type OutputCap =
  /** tokens: the largest cap any present field sets, per completion; choices: completions asked for. */
  | { kind: "bounded"; tokens: number; choices: number }
  /** No cap field at all: the upstream decides (the hold falls back to the consumer's limit). */
  | { kind: "absent"; choices: number }
  | { kind: "invalid"; field: string; message: string };

function at(body: Json, path: string): unknown {
  let v: unknown = body;
  for (const key of path.split(".")) {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
    v = (v as Json)[key];
  }
  return v;
}

/**
 * A positive integer as an upstream reads it: a JSON number, or a string of digits (lenient
 * servers coerce those). Returns a reason instead when some upstream could read it otherwise.
 */
function positiveCount(v: unknown, max: number): number | string {
  let n: number;
  if (typeof v === "number") n = v;
  else if (typeof v === "string" && /^\s*\d+\s*$/.test(v)) n = Number(v);
  else return "is not a number";
  if (!Number.isFinite(n)) return "is not a finite number";
  if (!Number.isInteger(n)) return `is not a whole number (${n})`;
  if (n < 1) return `must be at least 1 (got ${n}; some upstreams read ${n} as no limit)`;
  if (n > max) return `is larger than ${max}`;
  return n;
}

function largestOf(
  body: Json,
  fields: readonly string[],
  max: number,
): { value?: number; invalid?: { field: string; message: string } } {
  let value: number | undefined;
  for (const field of fields) {
    const v = at(body, field);
    if (v === undefined || v === null) continue; // null is "unset" in every API
    const n = positiveCount(v, max);
    if (typeof n === "string") return { invalid: { field, message: `${field} ${n}` } };
    value = Math.max(value ?? 0, n);
  }
  return { value };
}

/** Reads the body's output cap and completion count; a body that is not a JSON object has neither. */
export function outputCapOf(body: Json | undefined): OutputCap {
  if (!body) return { kind: "absent", choices: 1 };
  const cap = largestOf(body, OUTPUT_CAP_FIELDS, MAX_OUTPUT_CAP);
  if (cap.invalid) return { kind: "invalid", ...cap.invalid };
  const choices = largestOf(body, CHOICE_FIELDS, MAX_CHOICES);
  if (choices.invalid) return { kind: "invalid", ...choices.invalid };
  const n = choices.value ?? 1;
  return cap.value === undefined ? { kind: "absent", choices: n } : { kind: "bounded", tokens: cap.value, choices: n };
}

export type OutputCapField = (typeof OUTPUT_CAP_FIELDS)[number];

/** A budget's choice: the request API's own field (auto), none (off), or a named field. */
export type CapOutputSetting = "auto" | "off" | OutputCapField;
export const CAP_OUTPUT_SETTINGS = ["auto", "off", ...OUTPUT_CAP_FIELDS] as const;

/** The field an API takes its output cap in, told from the body's shape. */
function fieldOfApi(body: Json): OutputCapField {
  if (Array.isArray(body.contents))
    // Gemini
    return "generation_config" in body ? "generation_config.max_output_tokens" : "generationConfig.maxOutputTokens";
  if (typeof body.inferenceConfig === "object") return "inferenceConfig.maxTokens"; // Bedrock Converse
  if (body.inputs !== undefined && body.messages === undefined) return "parameters.max_new_tokens"; // Hugging Face
  if (typeof body.options === "object") return "options.num_predict"; // Ollama
  if (body.input !== undefined && body.messages === undefined) return "max_output_tokens"; // OpenAI responses
  return "max_tokens"; // chat and completions: Kong's llm/v1 formats, translated for every provider
}

/**
 * The fields to set so the upstream generates at most the cap: every cap field the body already
 * has (each is lowered), else the setting's field, else the one its API reads.
 */
export function capFieldsToSet(body: Json, setting: Exclude<CapOutputSetting, "off">): OutputCapField[] {
  const present = OUTPUT_CAP_FIELDS.filter((f) => at(body, f) !== undefined && at(body, f) !== null);
  if (present.length > 0) return present;
  return [setting === "auto" ? fieldOfApi(body) : setting];
}
