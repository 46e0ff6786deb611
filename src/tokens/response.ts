// Output tokens of a logged response, in every format the gateway proxies: chat completions,
// legacy completions, embeddings (no output), Anthropic messages and the Responses API, each as
// JSON or as a server-sent-event stream reassembled from its `data:` chunks, and plain text
// (Kong 3.7/3.8 logged streams as concatenated text). A response is `complete` only when it is
// whole: a stream cut before its last event is not, and neither is JSON of no known format.
import type { TextCounter } from "./counter.ts";
import { isJsonObject } from "../domain/json.ts";

type Json = Record<string, unknown>;

/**
 * The generated pieces of a response: text per choice and tool-call name/arguments. `lowerBound`:
 * the provider bills output this does not hold (audio, images, or Kong's reconstruction of a
 * stream, which keeps the first choice's text only), so its count is at least, not exactly, the bill.
 */
export type Completion = {
  texts: string[];
  toolCalls: Array<{ name: string; arguments: string }>;
  complete: boolean;
  lowerBound?: boolean;
};

/**
 * What Kong writes where it has no response to log (src/domain/kong-log.ts's versions): not a
 * payload, so nothing is counted from it.
 *  - "ERROR__NOT_SET": kong/llm/drivers/shared.lua post_request, 3.6 on, for a response another
 *    AI plugin produced without a `response` field.
 *  - the SSE frame ai-proxy sends when it cannot transform an upstream chunk (3.6-3.8
 *    plugins/ai-proxy/handler.lua, 3.9+ llm/plugin/shared-filters/normalize-sse-chunk.lua).
 */
export const KONG_PLACEHOLDERS: readonly string[] = [
  "ERROR__NOT_SET",
  'data: {"error": true, "message": "empty or unsupported transformer response"}',
];

const isPlaceholder = (body: string) => KONG_PLACEHOLDERS.includes(body.trim());

/**
 * Kong 3.9+ logs a stream as a chat completion it builds itself: no `id` or `created` (every
 * provider response has them), one choice, `logprobs: null`, and the first choice's delta text
 * only; without payload logging the message has no content at all.
 */
function kongStreamRecord(body: Json): "empty" | "text" | undefined {
  if (
    body.object !== "chat.completion" ||
    body.id !== undefined ||
    body.created !== undefined ||
    !Array.isArray(body.choices)
  )
    return undefined;
  const [choice, ...more] = body.choices;
  if (!isJsonObject(choice) || more.length > 0 || choice.logprobs !== null || !isJsonObject(choice.message))
    return undefined;
  return typeof choice.message.content === "string" ? "text" : "empty";
}

/** Output the provider bills that no text here holds: audio replies, generated images. */
function billsMoreThanText(body: Json): boolean {
  const choices = Array.isArray(body.choices) ? body.choices : [];
  if (
    choices.some(
      (c) => isJsonObject(c) && isJsonObject(c.message) && c.message.audio !== undefined && c.message.audio !== null,
    )
  )
    return true;
  const output = Array.isArray(body.output) ? body.output : [];
  return output.some(
    (item) => isJsonObject(item) && typeof item.type === "string" && /image_generation|audio/.test(item.type),
  );
}

/** The Responses API's output items: messages' text parts and function calls. */
function fromResponsesOutput(output: unknown[], out: Completion): void {
  for (const item of output) {
    if (!isJsonObject(item)) continue;
    if (item.type === "function_call")
      out.toolCalls.push({ name: String(item.name ?? ""), arguments: String(item.arguments ?? "") });
    for (const part of Array.isArray(item.content) ? item.content : []) {
      if (isJsonObject(part) && typeof part.text === "string") out.texts.push(part.text);
    }
  }
}

function fromChoices(choices: unknown[], out: Completion): void {
  for (const choice of choices) {
    if (!isJsonObject(choice)) continue;
    const msg = isJsonObject(choice.message) ? choice.message : undefined;
    if (typeof msg?.content === "string") out.texts.push(msg.content);
    else if (typeof choice.text === "string") out.texts.push(choice.text);
    for (const call of Array.isArray(msg?.tool_calls) ? msg.tool_calls : []) {
      const fn = isJsonObject(call) && isJsonObject(call.function) ? call.function : {};
      out.toolCalls.push({ name: String(fn.name ?? ""), arguments: String(fn.arguments ?? "") });
    }
  }
}

/** A JSON response body; undefined when it is of no known format. */
function fromJson(body: Json): Completion | undefined {
  const out: Completion = {
    texts: [],
    toolCalls: [],
    complete: true,
    ...(billsMoreThanText(body) ? { lowerBound: true } : {}),
  };
  if (Array.isArray(body.choices)) fromChoices(body.choices, out);
  else if (Array.isArray(body.output)) fromResponsesOutput(body.output, out);
  else if (Array.isArray(body.content)) {
    // Anthropic-style content blocks
    for (const part of body.content) if (isJsonObject(part) && typeof part.text === "string") out.texts.push(part.text);
  } else if (!(body.object === "list" && Array.isArray(body.data))) return undefined; // embeddings: no output tokens
  return out;
}

/** The events of a stream: each `data:` line's JSON object, in order (keep-alives and partial frames skipped). */
function sseEvents(raw: string): { events: Json[]; done: boolean } {
  const events: Json[] = [];
  let done = false;
  for (const line of raw.split(/\r?\n/)) {
    if (!line.startsWith("data:")) continue;
    const data = line.slice(5).trim();
    if (data === "[DONE]") done = true;
    if (data === "" || data === "[DONE]") continue;
    try {
      const chunk: unknown = JSON.parse(data);
      if (isJsonObject(chunk)) events.push(chunk);
    } catch {
      /* a partial frame carries no tokens */
    }
  }
  return { events, done };
}

/** Whether a stream reached its last event: OpenAI's [DONE], Anthropic's message_stop, a final finish_reason. */
const endsStream = (e: Json) =>
  e.type === "message_stop" ||
  (Array.isArray(e.choices) && e.choices.some((c) => isJsonObject(c) && typeof c.finish_reason === "string"));

/** Reassembles an OpenAI chat or completion stream, an Anthropic stream or a Responses API stream. */
export function reassembleSse(raw: string): Completion {
  const { events, done } = sseEvents(raw);
  // Responses API: the final event carries the whole response
  const completed = events.find((e) => e.type === "response.completed" && isJsonObject(e.response));
  if (completed) return { ...fromJson(completed.response as Json)!, complete: true };
  const texts = new Map<number, string>();
  const calls = new Map<string, { name: string; arguments: string }>();
  const append = (index: number, text: string) => texts.set(index, (texts.get(index) ?? "") + text);
  let ended = done;
  for (const chunk of events) {
    ended ||= endsStream(chunk);
    if (isJsonObject(chunk.delta) && typeof chunk.delta.text === "string")
      append(0, chunk.delta.text); // Anthropic
    else if (chunk.type === "response.output_text.delta" && typeof chunk.delta === "string") append(0, chunk.delta);
    else if (chunk.type === "response.function_call_arguments.delta" && typeof chunk.delta === "string") {
      const key = `r:${String(chunk.item_id ?? chunk.output_index ?? 0)}`;
      const acc = calls.get(key) ?? { name: "", arguments: "" };
      acc.arguments += chunk.delta;
      calls.set(key, acc);
    }
    for (const choice of Array.isArray(chunk.choices) ? chunk.choices : []) {
      if (!isJsonObject(choice)) continue;
      const index = typeof choice.index === "number" ? choice.index : 0;
      if (typeof choice.text === "string") append(index, choice.text); // legacy completions
      if (!isJsonObject(choice.delta)) continue;
      if (typeof choice.delta.content === "string") append(index, choice.delta.content);
      for (const tc of Array.isArray(choice.delta.tool_calls) ? choice.delta.tool_calls : []) {
        if (!isJsonObject(tc)) continue;
        const key = `${index}:${typeof tc.index === "number" ? tc.index : 0}`;
        const acc = calls.get(key) ?? { name: "", arguments: "" };
        const fn = isJsonObject(tc.function) ? tc.function : {};
        if (typeof fn.name === "string") acc.name += fn.name;
        if (typeof fn.arguments === "string") acc.arguments += fn.arguments;
        calls.set(key, acc);
      }
    }
  }
  return { texts: [...texts.values()], toolCalls: [...calls.values()], complete: ended };
}

function looksLikeSse(text: string): boolean {
  return /^data:/m.test(text);
}

/**
 * The completion of a response body. `plainText` says whether a string that is neither JSON nor
 * a stream is the completion itself (ai-proxy's payload in Kong 3.7/3.8) or of no known format.
 * Undefined: nothing to read. A JSON text that does not parse was cut off: incomplete.
 */
export function completionOf(body: unknown, plainText = true): Completion | undefined {
  const unknown: Completion = { texts: [], toolCalls: [], complete: false };
  if (typeof body === "string" && isPlaceholder(body)) return undefined;
  if (isJsonObject(body)) return readLogged(body, unknown);
  if (typeof body !== "string" || body === "") return undefined;
  if (looksLikeSse(body)) return reassembleSse(body);
  const t = body.trimStart();
  if (t.startsWith("{") || t.startsWith("[")) {
    try {
      const parsed: unknown = JSON.parse(body);
      return isJsonObject(parsed) ? readLogged(parsed, unknown) : unknown;
    } catch {
      return unknown;
    }
  }
  // Kong 3.7/3.8 logged a stream as its concatenated text: tool calls and other choices are not in it
  return plainText ? { texts: [body], toolCalls: [], complete: true, lowerBound: true } : unknown;
}

/**
 * A logged JSON response: Kong's own stream record is a lower bound, and nothing to read when it
 * kept no text; JSON of no known format is `unknown` (not whole).
 */
function readLogged(body: Json, unknown: Completion): Completion | undefined {
  const record = kongStreamRecord(body);
  if (record === "empty") return undefined;
  const c = fromJson(body);
  if (!c) return unknown;
  return record === "text" ? { ...c, lowerBound: true } : c;
}

export function completionTokens(enc: TextCounter, completion: Completion): number {
  let n = 0;
  for (const t of completion.texts) n += enc.count(t);
  for (const c of completion.toolCalls) n += enc.count(c.name) + enc.count(c.arguments);
  return n;
}

/** The `usage` object a logged response reports: its JSON body's, or the last stream event's that has one. */
export function responseUsageOf(body: unknown): Json | undefined {
  if (isJsonObject(body)) return isJsonObject(body.usage) ? body.usage : undefined;
  if (typeof body !== "string" || body === "") return undefined;
  if (!looksLikeSse(body)) return undefined;
  let usage: Json | undefined;
  for (const e of sseEvents(body).events) {
    const holder = isJsonObject(e.response) ? e.response : isJsonObject(e.message) ? e.message : e;
    // Anthropic reports input in message_start and output in message_delta: merged
    if (isJsonObject(holder.usage)) usage = { ...usage, ...holder.usage };
  }
  return usage;
}
