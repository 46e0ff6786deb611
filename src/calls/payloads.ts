// Where an http-log entry carries the call's request and response bodies: at the first configured
// log field that holds one (custom_fields_by_lua), else ai-proxy's logged payloads. A body logged as
// a JSON string is parsed; other strings (SSE, plain text, a cut-off JSON) stay text.
import { DEFAULT_BODY_PATHS, type AiBlock, type BodyPaths, type KongLog } from "../domain/kong-log.ts";
import type { Payload, Payloads } from "./call-record.ts";

function decodeBody(v: unknown): unknown {
  if (typeof v !== "string") return v;
  const t = v.trimStart();
  if (t.startsWith("{") || t.startsWith("[")) {
    try {
      return JSON.parse(v);
    } catch {
      return v;
    }
  }
  return v;
}

const present = (v: unknown) => (v === undefined || v === null || v === "" ? undefined : v);

function at(entry: Record<string, unknown>, path: string): unknown {
  let v: unknown = entry;
  for (const key of path.split(".")) {
    if (typeof v !== "object" || v === null || Array.isArray(v) || !Object.hasOwn(v, key)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function firstAt(log: KongLog, paths: readonly string[], fallback: unknown): Payload | undefined {
  for (const path of paths) {
    const v = present(at(log, path));
    if (v !== undefined) return { body: decodeBody(v), from: "log" };
  }
  const v = present(fallback);
  return v === undefined ? undefined : { body: decodeBody(v), from: "ai-proxy" };
}

export function payloadsOf(log: KongLog, proxy: AiBlock | undefined, paths: BodyPaths = DEFAULT_BODY_PATHS): Payloads {
  return {
    request: firstAt(log, paths.request, proxy?.requestPayload),
    response: firstAt(log, paths.response, proxy?.responsePayload),
  };
}
