// API request bodies as JSON, read so that nothing is lost or silently changed on the way in:
// - a JSON number under a price key keeps its literal text (NumberLiteral), so the price type can
//   refuse exponent forms and digits a double cannot carry, instead of seeing a rounded double;
// - a NUL character anywhere (PostgreSQL's text type cannot hold it) is refused, naming the field.
import { validationFailed } from "../domain/errors.ts";

/** A JSON number as written in the request. */
class NumberLiteral {
  constructor(readonly text: string) {}
}

const PRICE_KEY = /_cost_per_token$/;

type Frame = { array: true; index: number } | { array: false; key: string | null };

/** The numbers under price keys: their paths and literal text (a repeated key: the last one, as JSON.parse). */
function priceLiterals(text: string): Array<[string[], string]> {
  const found = new Map<string, [string[], string]>();
  const stack: Frame[] = [];
  const path = () => stack.map((f) => (f.array ? String(f.index) : (f.key ?? "")));
  let expectKey = false;
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    if (c === "{") {
      stack.push({ array: false, key: null });
      expectKey = true;
      i++;
    } else if (c === "[") {
      stack.push({ array: true, index: 0 });
      i++;
    } else if (c === "}" || c === "]") {
      stack.pop();
      i++;
    } else if (c === ",") {
      const top = stack[stack.length - 1];
      if (top?.array) top.index++;
      else expectKey = true;
      i++;
    } else if (c === ":") {
      expectKey = false;
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      const top = stack[stack.length - 1];
      if (expectKey && top && !top.array) top.key = JSON.parse(text.slice(i, j + 1)) as string;
      i = j + 1;
    } else if (c === "-" || (c >= "0" && c <= "9")) {
      const m = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(i, i + 400))!;
      const top = stack[stack.length - 1];
      if (top && !top.array && top.key !== null && PRICE_KEY.test(top.key))
        found.set(JSON.stringify(path()), [path(), m[0]]);
      i += m[0].length;
    } else {
      i++; // whitespace, true, false, null
    }
  }
  return [...found.values()];
}

/** Throws naming the first field (or key) that holds a NUL character. */
function refuseNul(root: unknown): void {
  const stack: Array<[unknown, string]> = [[root, ""]];
  while (stack.length > 0) {
    const [v, at] = stack.pop()!;
    const field = (k: string) => (at ? `${at}.${k}` : k);
    if (typeof v === "string" && v.includes("\u0000"))
      throw validationFailed(`${at || "body"}: must not contain the NUL character`, at || "body");
    if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) stack.push([x, field(String(i))]);
    } else if (v !== null && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        if (k.includes("\u0000"))
          throw validationFailed(`${field(k)}: a key must not contain the NUL character`, at || "body");
        stack.push([x, field(k)]);
      }
    }
  }
}

function setAt(root: unknown, keys: string[], value: unknown): void {
  let node = root as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) node = node?.[k] as Record<string, unknown>;
  if (node && typeof node === "object" && typeof node[keys[keys.length - 1]!] === "number")
    node[keys[keys.length - 1]!] = value;
}

export function parseApiJson(text: string): unknown {
  if (text.trim() === "") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw validationFailed(`body: not valid JSON (${(err as Error).message})`, "body");
  }
  refuseNul(value);
  for (const [path, literal] of priceLiterals(text)) setAt(value, path, new NumberLiteral(literal));
  return value;
}
