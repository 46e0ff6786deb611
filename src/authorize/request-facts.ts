// What authorize reads from a request before counting anything: the model, the output cap, and
// the parts counting cannot see. One parse and one walk of the body, both linear in its size, on
// the calling thread, so no check waits on counting and none is skipped when counting runs out of
// time. Counting (measure-request.ts) then refines the text's share only.
import { isJsonObject, stringifyJson } from "../domain/json.ts";
import { nonTextParts, type NonTextParts } from "../tokens/non-text-parts.ts";
import { outputCapOf, type OutputCap } from "./output-cap.ts";

type Json = Record<string, unknown>;

export type FactsInput = {
  /** The client's body: raw text, parsed JSON, or null when the gateway could not read it (buffered to disk). */
  body?: unknown;
  /** The model named by the gateway, if any. */
  model?: string;
  /** The model MODEL_BY_ROUTE names for the call's route, if any. */
  routeModel?: string;
};

export type RequestFacts = {
  model: string;
  /**
   * json: an object to count; text: a body that is not a JSON object; empty: no body; missing: the gateway could not
   * read it.
   */
  body: "json" | "text" | "empty" | "missing";
  /** The parsed body, when it is a JSON object. */
  json?: Json;
  outputCap: OutputCap;
  parts: NonTextParts;
  /**
   * The most input tokens the body's text can be: its bytes, less the inline media (a BPE token
   * covers at least one byte, and every framing token of the counting recipe stands on JSON
   * punctuation of its own).
   */
  textBoundTokens: number;
};

const NO_PARTS: NonTextParts = {
  counts: { image: 0, audio: 0, video: 0, file: 0 },
  tokens: 0,
  unsized: 0,
  payloadChars: 0,
};

function parse(body: unknown): { kind: RequestFacts["body"]; json?: Json; bytes: number } {
  if (body === null) return { kind: "missing", bytes: 0 };
  // any depth
  if (isJsonObject(body)) return { kind: "json", json: body, bytes: Buffer.byteLength(stringifyJson(body)) };
  if (typeof body !== "string" || body === "") return { kind: "empty", bytes: 0 };
  const bytes = Buffer.byteLength(body);
  try {
    const v = JSON.parse(body) as unknown;
    return isJsonObject(v) ? { kind: "json", json: v, bytes } : { kind: "text", bytes };
  } catch {
    return { kind: "text", bytes };
  }
}

export function requestFacts(input: FactsInput): RequestFacts {
  const { kind, json, bytes } = parse(input.body);
  const model =
    input.model ?? (typeof json?.model === "string" ? json.model : undefined) ?? input.routeModel ?? "unknown";
  const parts = json ? nonTextParts(json, model) : NO_PARTS;
  return {
    model,
    body: kind,
    json,
    outputCap: outputCapOf(json),
    parts,
    textBoundTokens: Math.max(0, bytes - parts.payloadChars),
  };
}
