// Price catalogs as files: the list prices shipped in this folder (list-prices.json, our format),
// and LiteLLM's model_prices_and_context_window.json, the map the ecosystem maintains. Both become
// the same book prices; an entry that cannot be one (half a price pair, an impossible price, a
// model that is not priced per token) is reported with its reason, never imported at zero.
import { readFileSync } from "node:fs";
import { Decimal, parsePrice } from "../domain/money.ts";
import { ENTRY_NAME } from "../domain/price-book.ts";
import type { PriceInput } from "../price-books/price-book.service.ts";
import { isJsonObject } from "../domain/json.ts";

export type ParsedCatalog = { prices: PriceInput[]; rejected: Array<{ model: string; reason: string }> };
export const CATALOG_FORMATS = ["tokenmeter", "litellm"] as const;
export type CatalogFormat = (typeof CATALOG_FORMATS)[number];

/** Our field for each token type, and LiteLLM's name for it. */
const FIELDS = {
  input_cost_per_token: "input_cost_per_token",
  output_cost_per_token: "output_cost_per_token",
  cached_input_cost_per_token: "cache_read_input_token_cost",
  cache_write_cost_per_token: "cache_creation_input_token_cost",
  reasoning_cost_per_token: "output_cost_per_reasoning_token",
} as const;
type PriceField = keyof typeof FIELDS;
/** Our own format names each field as we do. */
const OWN_FIELDS = Object.fromEntries(Object.keys(FIELDS).map((k) => [k, k])) as Record<PriceField, string>;

/** LiteLLM modes whose entries are priced per text token in and out. */
const TOKEN_MODES = new Set(["chat", "completion", "responses"]);

/** A price from a file: a decimal string, or a number (LiteLLM writes 3e-06) taken by its shortest decimal spelling. */
function priceOf(v: unknown): Decimal | string {
  if (typeof v === "number" && Number.isFinite(v) && v >= 0) v = new Decimal(v).toFixed();
  const p = parsePrice(v);
  return "error" in p ? p.error : p;
}

function entryOf(
  model: string,
  source: Record<string, unknown>,
  names: Record<PriceField, string>,
): PriceInput | string {
  if (model.length > 200 || !ENTRY_NAME.test(model.trim().toLowerCase()))
    return "the model name is not a valid entry (no spaces, at most 200 characters)";
  const out: Partial<Record<PriceField, Decimal>> = {};
  for (const field of Object.keys(FIELDS) as PriceField[]) {
    const raw = source[names[field]];
    if (raw === undefined || raw === null) continue;
    const p = priceOf(raw);
    if (typeof p === "string") return `${names[field]} ${p}`;
    out[field] = p;
  }
  if (!out.input_cost_per_token || !out.output_cost_per_token) {
    return `${out.input_cost_per_token ? names.output_cost_per_token : names.input_cost_per_token} is missing: half a price pair is not imported`;
  }
  return { model, ...out } as PriceInput;
}

function collect(pairs: Array<[string, Record<string, unknown>]>, names: Record<PriceField, string>): ParsedCatalog {
  const result: ParsedCatalog = { prices: [], rejected: [] };
  const seen = new Set<string>();
  for (const [model, source] of pairs) {
    const key = model.trim().toLowerCase();
    if (seen.has(key)) {
      result.rejected.push({ model, reason: "named twice in the file" });
      continue;
    }
    seen.add(key);
    const e = entryOf(model, source, names);
    if (typeof e === "string") result.rejected.push({ model, reason: e });
    else result.prices.push(e);
  }
  return result;
}

/** Our format: {"format": "tokenmeter-price-catalog/1", "models": [{"model", "input_cost_per_token", ...}]}. */
export function parseOwnCatalog(doc: unknown): ParsedCatalog {
  if (!isJsonObject(doc) || !Array.isArray(doc.models)) throw new TypeError("models: a catalog holds a models array");
  const pairs = doc.models.map((m, i): [string, Record<string, unknown>] =>
    isJsonObject(m) && typeof m.model === "string" ? [m.model, m] : [`models.${i}`, {}],
  );
  // a tiering is not carried by a catalog import: refused rather than dropped without a word
  const tiered = pairs.filter(([, m]) => m.tiering !== undefined && m.tiering !== null);
  const parsed = collect(
    pairs.filter((p) => !tiered.includes(p)),
    OWN_FIELDS,
  );
  const reason = "has a tiering: add tiered prices with POST /v1/price-books/:book/prices";
  return { prices: parsed.prices, rejected: [...tiered.map(([model]) => ({ model, reason })), ...parsed.rejected] };
}

/** LiteLLM's map: {"<model>": {"input_cost_per_token": 3e-06, "mode": "chat", ...}, "sample_spec": {...}}. */
export function parseLiteLlm(doc: unknown): ParsedCatalog {
  if (!isJsonObject(doc)) throw new TypeError("catalog: LiteLLM's map is a JSON object of models");
  const pairs: Array<[string, Record<string, unknown>]> = [];
  const skipped: ParsedCatalog["rejected"] = [];
  for (const [model, source] of Object.entries(doc)) {
    if (model === "sample_spec") continue; // the file's own documentation entry
    if (!isJsonObject(source)) skipped.push({ model, reason: "not an object" });
    else if (source.mode !== undefined && !TOKEN_MODES.has(String(source.mode)))
      skipped.push({ model, reason: `mode ${String(source.mode)} is not priced per text token in and out` });
    else pairs.push([model, source]);
  }
  const parsed = collect(pairs, FIELDS);
  return { prices: parsed.prices, rejected: [...skipped, ...parsed.rejected] };
}

export function parseCatalog(format: CatalogFormat, doc: unknown): ParsedCatalog {
  return format === "litellm" ? parseLiteLlm(doc) : parseOwnCatalog(doc);
}

/** The list prices shipped with tokenmeter (src/catalog/list-prices.json). */
export function shippedCatalog(): ParsedCatalog {
  return parseOwnCatalog(JSON.parse(readFileSync(new URL("./list-prices.json", import.meta.url), "utf8")));
}
