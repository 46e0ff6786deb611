// A control character (NUL, CR, LF, ...) in a URL's path or query is refused before any route
// sees it: no identifier, date or filter can contain one, PostgreSQL cannot store NUL, and a value
// with CR/LF could end up in a header.
import type { FastifyRequest } from "fastify";
import { validationFailed } from "../domain/errors.ts";

const ENCODED_CONTROL = /%(?:[01][0-9a-f]|7f)/i;
const RAW_CONTROL = /[\u0000-\u001f\u007f]/;

export async function refuseControlCharactersInUrl(request: FastifyRequest): Promise<void> {
  const url = request.url;
  const q = url.indexOf("?");
  const [path, query] = q < 0 ? [url, ""] : [url.slice(0, q), url.slice(q + 1)];
  for (const [part, text] of [
    ["path", path],
    ["query", query],
  ] as const) {
    if (ENCODED_CONTROL.test(text) || RAW_CONTROL.test(text)) {
      const param =
        part === "query"
          ? (text
              .split("&")
              .find((p) => ENCODED_CONTROL.test(p) || RAW_CONTROL.test(p))
              ?.split("=")[0] ?? "")
          : "";
      const field = param ? `query.${decodeURIComponentSafe(param)}` : part;
      throw validationFailed(`${field}: must not contain control characters (NUL, CR, LF, ...)`, field);
    }
  }
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
