// JSON text of parsed JSON values at any depth. JSON.parse takes nesting hundreds of thousands deep,
// but JSON.stringify recurses and overflows the stack near depth 5 000, so a valid log entry with a
// deeply nested custom field would fail every time it is serialized. This writer keeps its own
// stack; its output equals JSON.stringify's for values that came from JSON.parse.

/** A JSON object (not an array, not null). */
export const isJsonObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The value when it is a JSON object, else undefined. */
export const asJsonObject = (v: unknown): Record<string, unknown> | undefined => (isJsonObject(v) ? v : undefined);

type Frame = { array: unknown[]; i: number } | { object: Record<string, unknown>; keys: string[]; i: number };

/** JSON.stringify(value), or the same text written iteratively when the value is too deep for it. */
export function stringifyJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? "null";
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    return writeJson(value, false);
  }
}

/** JSON with every object's keys sorted (a canonical form: key order does not change the text). */
export function canonicalJson(value: unknown): string {
  return writeJson(value, true);
}

function writeJson(root: unknown, sortKeys: boolean): string {
  const out: string[] = [];
  const stack: Frame[] = [];
  const open = (v: unknown) => {
    if (Array.isArray(v)) {
      out.push("[");
      stack.push({ array: v, i: 0 });
    } else if (v !== null && typeof v === "object") {
      out.push("{");
      const keys = Object.keys(v);
      stack.push({ object: v as Record<string, unknown>, keys: sortKeys ? keys.sort() : keys, i: 0 });
    } else {
      out.push(JSON.stringify(v) ?? "null");
    }
  };
  open(root);
  while (stack.length > 0) {
    const f = stack[stack.length - 1]!;
    if ("array" in f) {
      if (f.i === f.array.length) {
        out.push("]");
        stack.pop();
        continue;
      }
      if (f.i > 0) out.push(",");
      open(f.array[f.i++]);
    } else {
      if (f.i === f.keys.length) {
        out.push("}");
        stack.pop();
        continue;
      }
      const key = f.keys[f.i]!;
      out.push(`${f.i > 0 ? "," : ""}${JSON.stringify(key)}:`);
      f.i++;
      open(f.object[key]);
    }
  }
  return out.join("");
}
