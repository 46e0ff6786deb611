// Credentials Kong logs in clear (key-auth's key, provider keys, cookies; Authorization before
// Kong 3.5) are replaced before an entry or a dead letter is stored anywhere, whatever their shape:
// a credential key's value is replaced at any depth, be it a string, an array of header values or
// a nested object; query arguments in URIs are redacted; text that is not valid JSON is scanned
// for the same keys, and so is every string holding JSON (the request and response bodies Kong
// logs are JSON inside a JSON string): only the credential's value changes, every other byte of
// the body stays as logged, so its tokens count the same.
import { stringifyJson, isJsonObject } from "../domain/json.ts";

export const REDACTED = "REDACTED";

const URI_FIELDS = new Set(["uri", "url", "upstream_uri"]);

/** Replaces the values of credential arguments in a URI's query, keeping everything else as is. */
export function redactUri(uri: string, keys: ReadonlySet<string>): string {
  const q = uri.indexOf("?");
  if (q < 0) return uri;
  const query = uri
    .slice(q + 1)
    .split("&")
    .map((pair) => {
      const eq = pair.indexOf("=");
      const name = eq < 0 ? pair : pair.slice(0, eq);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name);
      } catch {
        /* keep the raw name */
      }
      return eq >= 0 && keys.has(decoded.toLowerCase()) ? `${name}=${REDACTED}` : pair;
    })
    .join("&");
  return `${uri.slice(0, q)}?${query}`;
}

/** Redacts a parsed JSON value in place, at any depth (iteratively: depth is unbounded). */
export function redactDeep(root: unknown, keys: ReadonlySet<string>): void {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (Array.isArray(v)) {
      for (const item of v) if (typeof item === "object" && item !== null) stack.push(item);
    } else if (isJsonObject(v)) {
      for (const [k, value] of Object.entries(v)) {
        if (keys.has(k.toLowerCase())) v[k] = REDACTED;
        else if (typeof value === "string" && URI_FIELDS.has(k)) v[k] = redactUri(value, keys);
        else if (typeof value === "string" && value.includes('"')) v[k] = redactEmbedded(value, keys);
        else if (typeof value === "object" && value !== null) stack.push(value);
      }
    }
  }
}

/** End of the JSON value starting at `i` (string, array, object or scalar), tolerant of truncation. */
function valueEnd(text: string, i: number): number {
  const open = text[i];
  if (open === '"') {
    for (let j = i + 1; j < text.length; j++) {
      if (text[j] === "\\") j++;
      else if (text[j] === '"') return j + 1;
    }
    return text.length;
  }
  if (open === "[" || open === "{") {
    let depth = 0;
    for (let j = i; j < text.length; j++) {
      const c = text[j];
      if (c === '"') j = valueEnd(text, j) - 1;
      else if (c === "[" || c === "{") depth++;
      else if (c === "]" || c === "}") {
        if (--depth === 0) return j + 1;
      }
    }
    return text.length;
  }
  const m = /^[^,}\]\s]*/.exec(text.slice(i));
  return i + (m?.[0].length ?? 0);
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * For bytes that are not valid JSON: replaces the value after every `"name":` of a credential name
 * (a string, an array or an object, even cut off), and `name=value` query arguments.
 */
export function redactText(text: string, keys: ReadonlySet<string>): string {
  const names = [...keys].map(escapeRe).join("|");
  if (!names) return text;
  const keyRe = new RegExp(`"(?:${names})"\\s*:\\s*`, "gi");
  let out = "";
  let from = 0;
  for (let m = keyRe.exec(text); m !== null; m = keyRe.exec(text)) {
    const start = m.index + m[0].length;
    if (start < from) continue;
    out += `${text.slice(from, start)}"${REDACTED}"`;
    from = valueEnd(text, start);
    keyRe.lastIndex = from;
  }
  out += text.slice(from);
  return out.replace(new RegExp(`([?&](?:${names})=)[^&"\\s]*`, "gi"), `$1${REDACTED}`);
}

/** A string that may hold JSON text (a logged body): its credential values redacted, nothing else touched. */
function redactEmbedded(text: string, keys: ReadonlySet<string>): string {
  const probe = probeOf(keys);
  return probe?.test(text) ? redactText(text, keys) : text;
}

/** One regex per key set: is any credential name used as a JSON key in the text. */
const probes = new WeakMap<ReadonlySet<string>, RegExp | null>();
function probeOf(keys: ReadonlySet<string>): RegExp | null {
  if (!probes.has(keys)) {
    const names = [...keys].map(escapeRe).join("|");
    probes.set(keys, names ? new RegExp(`"(?:${names})"\\s*:`, "i") : null);
  }
  return probes.get(keys)!;
}

/** A stored payload with its credentials redacted: parsed and redacted when it is JSON, scanned otherwise. */
export function redactPayload(bytes: Buffer, keys: ReadonlySet<string>): Buffer {
  const text = bytes.toString("utf8");
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return Buffer.from(redactText(text, keys));
  }
  redactDeep(parsed, keys);
  return Buffer.from(stringifyJson(parsed));
}
