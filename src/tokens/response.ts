// Output tokens of a logged response: a JSON completion, a server-sent-event stream reassembled
// from its `data:` chunks, or plain text (Kong 3.7/3.8 logged streams as concatenated text).
import type { TextCounter } from "./counter.ts";

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

/** The generated pieces of a response: text per choice and tool-call name/arguments. */
export type Completion = { texts: string[]; toolCalls: Array<{ name: string; arguments: string }> };

function fromJson(body: Json): Completion {
  const out: Completion = { texts: [], toolCalls: [] };
  if (Array.isArray(body.choices)) {
    for (const choice of body.choices) {
      if (!isObj(choice)) continue;
      const msg = isObj(choice.message) ? choice.message : undefined;
      if (typeof msg?.content === "string") out.texts.push(msg.content);
      else if (typeof choice.text === "string") out.texts.push(choice.text);
      for (const call of Array.isArray(msg?.tool_calls) ? msg.tool_calls : []) {
        const fn = isObj(call) && isObj(call.function) ? call.function : {};
        out.toolCalls.push({ name: String(fn.name ?? ""), arguments: String(fn.arguments ?? "") });
      }
    }
  } else if (Array.isArray(body.content)) {
    // Anthropic-style content blocks
    for (const part of body.content) if (isObj(part) && typeof part.text === "string") out.texts.push(part.text);
  }
  return out;
}

/** Reassembles an OpenAI (choices[].delta) or Anthropic (content_block_delta) event stream. */
export function reassembleSse(raw: string): Completion {
  const texts = new Map<number, string>();
  const calls = new Map<string, { name: string; arguments: string }>();
  for (const line of raw.split(/\r?\n/)) {
    if (!line.startsWith("data:")) continue;
    const data = line.slice(5).trim();
    if (data === "" || data === "[DONE]") continue;
    let chunk: unknown;
    try {
      chunk = JSON.parse(data);
    } catch {
      continue; // keep-alive comments and partial frames carry no tokens
    }
    if (!isObj(chunk)) continue;
    if (isObj(chunk.delta) && typeof chunk.delta.text === "string") {
      texts.set(0, (texts.get(0) ?? "") + chunk.delta.text);
      continue;
    }
    for (const choice of Array.isArray(chunk.choices) ? chunk.choices : []) {
      if (!isObj(choice) || !isObj(choice.delta)) continue;
      const index = typeof choice.index === "number" ? choice.index : 0;
      if (typeof choice.delta.content === "string") texts.set(index, (texts.get(index) ?? "") + choice.delta.content);
      for (const tc of Array.isArray(choice.delta.tool_calls) ? choice.delta.tool_calls : []) {
        if (!isObj(tc)) continue;
        const key = `${index}:${typeof tc.index === "number" ? tc.index : 0}`;
        const acc = calls.get(key) ?? { name: "", arguments: "" };
        const fn = isObj(tc.function) ? tc.function : {};
        if (typeof fn.name === "string") acc.name += fn.name;
        if (typeof fn.arguments === "string") acc.arguments += fn.arguments;
        calls.set(key, acc);
      }
    }
  }
  return { texts: [...texts.values()], toolCalls: [...calls.values()] };
}

export function looksLikeSse(text: string): boolean {
  return /^data:/m.test(text);
}

export function completionOf(body: unknown): Completion | undefined {
  if (isObj(body)) return fromJson(body);
  if (typeof body !== "string" || body === "") return undefined;
  if (looksLikeSse(body)) return reassembleSse(body);
  try {
    const parsed: unknown = JSON.parse(body);
    if (isObj(parsed)) return fromJson(parsed);
  } catch {
    /* plain text */
  }
  return { texts: [body], toolCalls: [] };
}

export function completionTokens(enc: TextCounter, completion: Completion): number {
  let n = 0;
  for (const t of completion.texts) n += enc.count(t);
  for (const c of completion.toolCalls) n += enc.count(c.name) + enc.count(c.arguments);
  return n;
}
