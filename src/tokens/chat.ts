// Input tokens of an OpenAI-style request, following OpenAI's published counting recipe:
// 3 tokens per message, 1 more when it has a name, 3 to prime the reply, and the function-
// definition overheads of the same recipe for `tools`.
import type { TextCounter } from "./counter.ts";
import { isJsonObject } from "../domain/json.ts";

const TOKENS_PER_MESSAGE = 3;
const TOKENS_PER_NAME = 1;
const REPLY_PRIMING = 3;

type Json = Record<string, unknown>;

/** Text of a message content: a string, or the text parts of a content array (images are not text). */
function contentText(content: unknown): string[] {
  if (typeof content === "string") return [content];
  if (!Array.isArray(content)) return [];
  return content.flatMap((part) => (isJsonObject(part) && typeof part.text === "string" ? [part.text] : []));
}

function toolCallTokens(enc: TextCounter, toolCalls: unknown): number {
  if (!Array.isArray(toolCalls)) return 0;
  let n = 0;
  for (const call of toolCalls) {
    const fn = isJsonObject(call) && isJsonObject(call.function) ? call.function : undefined;
    if (!fn) continue;
    if (typeof fn.name === "string") n += enc.count(fn.name);
    if (typeof fn.arguments === "string") n += enc.count(fn.arguments);
  }
  return n;
}

export function chatMessagesTokens(enc: TextCounter, messages: unknown[]): number {
  let n = REPLY_PRIMING;
  for (const m of messages) {
    if (!isJsonObject(m)) continue;
    n += TOKENS_PER_MESSAGE;
    for (const [key, value] of Object.entries(m)) {
      if (key === "content") for (const t of contentText(value)) n += enc.count(t);
      else if (key === "tool_calls") n += toolCallTokens(enc, value);
      else if (typeof value === "string") n += enc.count(value);
      if (key === "name") n += TOKENS_PER_NAME;
    }
  }
  return n;
}

/** Function definitions as the recipe counts them; o200k models have a smaller per-function overhead. */
export function toolDefinitionsTokens(enc: TextCounter, tools: unknown[], o200k: boolean): number {
  const FUNC_INIT = o200k ? 7 : 10;
  const PROP_INIT = 3,
    PROP_KEY = 3,
    ENUM_INIT = -3,
    ENUM_ITEM = 3,
    FUNC_END = 12;
  let n = 0;
  let any = false;
  for (const tool of tools) {
    const fn = isJsonObject(tool) && isJsonObject(tool.function) ? tool.function : undefined;
    if (!fn) continue;
    any = true;
    n += FUNC_INIT;
    const desc = typeof fn.description === "string" ? fn.description.replace(/\.$/, "") : "";
    n += enc.count(`${String(fn.name ?? "")}:${desc}`);
    const props = isJsonObject(fn.parameters) && isJsonObject(fn.parameters.properties) ? fn.parameters.properties : {};
    const keys = Object.keys(props);
    if (keys.length > 0) n += PROP_INIT;
    for (const key of keys) {
      const p = isJsonObject(props[key]) ? (props[key] as Json) : {};
      n += PROP_KEY;
      if (Array.isArray(p.enum)) {
        n += ENUM_INIT;
        for (const item of p.enum) n += ENUM_ITEM + enc.count(String(item));
      }
      const pDesc = typeof p.description === "string" ? p.description.replace(/\.$/, "") : "";
      n += enc.count(`${key}:${String(p.type ?? "")}:${pDesc}`);
    }
  }
  return any ? n + FUNC_END : 0;
}

/** Responses API input items read as chat messages, `instructions` as a leading system message. */
function responsesMessages(body: Json, items: unknown[]): unknown[] {
  const instructions = typeof body.instructions === "string" ? [{ role: "system", content: body.instructions }] : [];
  return [...instructions, ...items];
}

/** A list of token ids (embeddings accept them): already tokens, so their count is the answer. */
const isTokenIds = (v: unknown[]): v is number[] => v.length > 0 && v.every((x) => typeof x === "number");

/**
 * Input tokens of a request body: chat (`messages`), legacy completion (`prompt`), embeddings
 * (`input` as text, texts or token ids) or the Responses API (`input` as text or items). Undefined
 * for a body of no known format: it is not counted as raw text.
 */
export function requestTokens(enc: TextCounter, body: unknown, o200k: boolean): number | undefined {
  if (typeof body === "string") return enc.count(body);
  if (!isJsonObject(body)) return undefined;
  const tools = Array.isArray(body.tools) ? toolDefinitionsTokens(enc, body.tools, o200k) : 0;
  if (Array.isArray(body.messages)) return chatMessagesTokens(enc, body.messages) + tools;
  for (const key of ["prompt", "input"] as const) {
    const v = body[key];
    if (typeof v === "string")
      return typeof body.instructions === "string"
        ? chatMessagesTokens(enc, responsesMessages(body, [{ role: "user", content: v }])) + tools
        : enc.count(v);
    if (!Array.isArray(v)) continue;
    if (isTokenIds(v)) return v.length;
    if (v.some(isJsonObject)) return chatMessagesTokens(enc, responsesMessages(body, v)) + tools;
    return v.reduce<number>(
      (n, s) => n + (typeof s === "string" ? enc.count(s) : Array.isArray(s) && isTokenIds(s) ? s.length : 0),
      0,
    );
  }
  return undefined;
}
