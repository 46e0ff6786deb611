// Odd values for every field the OpenAPI document describes, chosen from each field's own schema
// so that every one of them breaks it: wrong types, out-of-range numbers, over-long or control-
// character text, days that do not exist, unknown enum values and keys, impossible prices.
type Schema = Record<string, any>;
export type Where = "body" | "query" | "path" | "header";

const DATES = ["0000-01-01", "0026-10-01", "2026-02-30", "2026-13-01", "10000-01-01", "2026-1-1"];
const INSTANTS = ["0000-01-01T00:00:00Z", "0026-10-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-01", "yesterday"];
const PRICES = [
  "0x10",
  "0b11",
  "1e-7",
  "-1",
  "+1",
  " ",
  "",
  "Infinity",
  "NaN",
  "1.0000000000001",
  "99999999999999999999999999999999999999",
  1e308,
  1e40,
  -0.5,
  true,
  [],
  {},
];
const CONTROL = ["\u0000", "a\u0000b", "a\r\nX-Injected: 1", "tab\tinside"];

const isPrice = (s: Schema) =>
  Array.isArray(s.oneOf) &&
  s.oneOf.some((b: Schema) => b.type === "string" && b.pattern) &&
  s.oneOf.some((b: Schema) => b.type === "number");

/** The branches of a nullable or optional union, without null. */
function branchesOf(s: Schema): Schema[] {
  const list = (s.anyOf ?? s.oneOf) as Schema[] | undefined;
  return list ? list.filter((b) => b.type !== "null") : [s];
}

function stringOdds(s: Schema, where: Where): unknown[] {
  const odd: unknown[] = [];
  if (s.maxLength !== undefined) odd.push("x".repeat(s.maxLength + 1));
  if (s.minLength) odd.push("");
  if (s.enum) odd.push("no-such-value");
  if (s.format === "date") odd.push(...DATES);
  if (s.format === "date-time") odd.push(...INSTANTS);
  if (s.format === "uuid") odd.push("not-a-uuid");
  if (s.pattern?.includes("u0000")) odd.push(...(where === "header" ? ["tab\tinside"] : CONTROL));
  else if (s.pattern && !s.format) odd.push("!!");
  return odd;
}

function numberOdds(s: Schema, where: Where): unknown[] {
  const odd: unknown[] = [where === "body" ? "100" : "ten"];
  if (s.type === "integer") odd.push(where === "body" ? 1.5 : "1.5");
  if (s.minimum !== undefined) odd.push(s.minimum - 1);
  if (s.exclusiveMinimum !== undefined) odd.push(s.exclusiveMinimum);
  if (s.maximum !== undefined) odd.push(s.maximum + 1, 1e308);
  return where === "body" ? odd : odd.map(String);
}

/** Values the schema refuses; empty when it takes anything (such a field is not probed). */
export function oddValues(schema: Schema, where: Where): unknown[] {
  if (isPrice(schema)) return PRICES;
  const branches = branchesOf(schema);
  if (branches.length !== 1) return []; // a union: what breaks one branch may fit another
  const s = branches[0]!;
  const wrongType = where === "body" ? [true, [], {}, 7].filter((v) => !fits(s, v)) : [];
  switch (s.type) {
    case "string":
      return [...wrongType, ...stringOdds(s, where)];
    case "integer":
    case "number":
      return [...wrongType, ...numberOdds(s, where)];
    case "boolean":
      return where === "body" ? ["yes", 1, null].filter((v) => !(v === null && schema.anyOf)) : ["yes"];
    case "array":
      return [
        ...wrongType,
        "not-a-list",
        ...(s.items
          ? oddValues(s.items, where)
              .slice(0, 4)
              .map((v) => [v])
          : []),
      ];
    case "object":
      return [...wrongType, "not-an-object", ...(s.additionalProperties === false ? [{ no_such_field: 1 }] : [])];
    default:
      return [];
  }
}

function fits(s: Schema, v: unknown): boolean {
  if (Array.isArray(v)) return s.type === "array";
  if (typeof v === "object") return s.type === "object";
  if (typeof v === "number") return s.type === "number" || s.type === "integer";
  return typeof v === s.type;
}

/** Every body field, dotted, with its schema: nested objects are walked, arrays are probed as a whole. */
export function bodyFields(schema: Schema, prefix = ""): Array<[string, Schema]> {
  const s = branchesOf(schema).length === 1 ? branchesOf(schema)[0]! : schema;
  if (s.type !== "object" || !s.properties) return [];
  return Object.entries(s.properties as Record<string, Schema>).flatMap(([name, child]) => {
    const field = prefix ? `${prefix}.${name}` : name;
    return [[field, child] as [string, Schema], ...bodyFields(child, field)];
  });
}
