// Credentials Kong logs in clear (key-auth's key, provider keys, cookies; Authorization before
// Kong 3.5) are replaced before the entry is stored anywhere.
export const REDACTED = "REDACTED";

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

function redactHeaders(headers: unknown, keys: ReadonlySet<string>): void {
  if (!isObj(headers)) return;
  for (const name of Object.keys(headers)) if (keys.has(name.toLowerCase())) headers[name] = REDACTED;
}

function redactQueryString(qs: unknown, keys: ReadonlySet<string>): void {
  if (!isObj(qs)) return;
  for (const name of Object.keys(qs)) if (keys.has(name.toLowerCase())) qs[name] = REDACTED;
}

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

/** Redacts one http-log entry in place. */
export function redactEntry(entry: Json, keys: ReadonlySet<string>): void {
  const request = isObj(entry.request) ? entry.request : undefined;
  const response = isObj(entry.response) ? entry.response : undefined;
  if (request) {
    redactHeaders(request.headers, keys);
    redactQueryString(request.querystring, keys);
    for (const field of ["uri", "url"] as const) {
      if (typeof request[field] === "string") request[field] = redactUri(request[field] as string, keys);
    }
  }
  if (response) redactHeaders(response.headers, keys);
  if (typeof entry.upstream_uri === "string") entry.upstream_uri = redactUri(entry.upstream_uri, keys);
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * For bytes that are not valid JSON (kept only as a dead letter): blanks `"name":"value"` pairs and
 * `name=value` query arguments of credential names, as far as the text still allows.
 */
export function redactText(text: string, keys: ReadonlySet<string>): string {
  const names = [...keys].map(escapeRe).join("|");
  if (!names) return text;
  return text
    .replace(new RegExp(`("(?:${names})"\\s*:\\s*")(?:[^"\\\\]|\\\\.)*"?`, "gi"), `$1${REDACTED}"`)
    .replace(new RegExp(`([?&](?:${names})=)[^&"\\s]*`, "gi"), `$1${REDACTED}`);
}
