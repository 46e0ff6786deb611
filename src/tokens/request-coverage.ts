// Whether our count of a request sees everything the provider bills for it. The counting recipe
// (chat.ts) counts text: messages, names, tool calls, function tools. Images, audio and files are
// billed by the provider but are not text, and some fields add billed tokens the recipe does not
// model; either makes our count a lower bound, and the parts get their published estimate.
import { nonTextParts } from "./non-text-parts.ts";
import { isJsonObject } from "../domain/json.ts";

type Json = Record<string, unknown>;

export type RequestCoverage = {
  /** Our count is at least, not exactly, what the provider bills. */
  lowerBound: boolean;
  /** The published estimate of the parts our count cannot see (0 when there are none or none can be sized). */
  partsEstimate: number;
  /** Why: the part kinds and fields found. */
  unseen: string[];
};

/** Fields that put billed tokens in the prompt which the recipe does not count. */
function unmodeledFields(body: Json): string[] {
  const out: string[] = [];
  // Anthropic's top-level system prompt
  if (body.system !== undefined && body.system !== null && body.system !== "") out.push("system");
  if (Array.isArray(body.functions) && body.functions.length > 0) out.push("functions"); // legacy function definitions
  // the schema goes into the prompt
  if (isJsonObject(body.response_format) && body.response_format.type === "json_schema") out.push("response_format");
  if (isJsonObject(body.text) && isJsonObject(body.text.format) && body.text.format.type === "json_schema")
    out.push("text.format"); // the same, Responses API
  if (
    Array.isArray(body.tools) &&
    body.tools.some((t) => isJsonObject(t) && t.type !== undefined && t.type !== "function")
  )
    out.push("tools"); // built-in tools
  if (body.prediction !== undefined && body.prediction !== null) out.push("prediction"); // predicted outputs are billed
  return out;
}

export function requestCoverage(body: Json, model: string): RequestCoverage {
  const parts = nonTextParts(body, model);
  const kinds = Object.entries(parts.counts)
    .filter(([, n]) => n > 0)
    .map(([kind]) => kind);
  const unseen = [...kinds, ...unmodeledFields(body)];
  return { lowerBound: unseen.length > 0, partsEstimate: parts.tokens, unseen };
}
