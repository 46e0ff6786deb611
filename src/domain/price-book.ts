// Which price of a price book covers a model at a time. Pure: the meter, authorize, repricing and
// the API's explanation of an event all ask the same index.
//
// Precedence, first that has a price in force at the call's time:
//   exact    the entry names the model as reported (case-insensitive)
//   dated    the entry names the model without its date suffix (gpt-4o-2024-08-06 -> gpt-4o,
//            claude-3-5-sonnet-20241022 -> claude-3-5-sonnet, ...@20240620 likewise)
//   pattern  an entry with `*` matches (gpt-4o-mini*); the longest pattern wins, then the first in order
//   default  the book's `*` entry
// Each entry keeps its versions: the one in force is the latest effective at or before the call.
import type { RatePrices } from "./pricing.ts";

export type BookPrice = RatePrices & { id: string; bookId: string; model: string; effectiveFrom: Date };
export type PriceMatchKind = "exact" | "dated" | "pattern" | "default";
export type PriceMatch = { price: BookPrice; match: PriceMatchKind; entry: string };

/** The entry that prices every model its book does not name. */
export const DEFAULT_ENTRY = "*";
const DATE_SUFFIX = /[-@](?:\d{4}-\d{2}-\d{2}|\d{8})$/;

const normalizeModel = (name: string): string => name.trim().toLowerCase();

/** The model without a trailing release date, or undefined when it has none. */
export function undatedModel(model: string): string | undefined {
  const undated = model.replace(DATE_SUFFIX, "");
  return undated !== model && undated !== "" ? undated : undefined;
}

/** A valid entry name: a model name, a pattern with `*`, or `*` alone. */
export const ENTRY_NAME = /^[^\s*]*(?:\*[^\s*]*)*$/;

function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${body}$`, "s");
}

type Entry = { name: string; versions: BookPrice[] };

function inForce(versions: readonly BookPrice[], at: Date): BookPrice | undefined {
  let best: BookPrice | undefined;
  for (const v of versions)
    if (v.effectiveFrom.getTime() <= at.getTime() && (!best || v.effectiveFrom > best.effectiveFrom)) best = v;
  return best;
}

/** One book's prices, indexed for lookups per call. Build once per book version and reuse. */
export class PriceBookIndex {
  private readonly exact = new Map<string, Entry>();
  private readonly patterns: Array<Entry & { re: RegExp; literal: number }> = [];
  private readonly fallback?: Entry;
  /** What callers derive from a price of this book (marked-up prices): computed once per key. */
  private readonly derived = new Map<string, unknown>();
  /** Entries that may match a model, in precedence order: the same model asks the same question often. */
  private readonly candidates = new Map<string, Array<{ entry: Entry; match: PriceMatchKind }>>();

  constructor(prices: readonly BookPrice[]) {
    const byName = new Map<string, BookPrice[]>();
    for (const p of prices) {
      const name = normalizeModel(p.model);
      byName.set(name, [...(byName.get(name) ?? []), p]);
    }
    for (const [name, versions] of byName) {
      const entry = { name, versions };
      if (name === DEFAULT_ENTRY) this.fallback = entry;
      else if (name.includes("*"))
        this.patterns.push({ ...entry, re: globToRegExp(name), literal: name.replaceAll("*", "").length });
      else this.exact.set(name, entry);
    }
    this.patterns.sort((a, b) => b.literal - a.literal || (a.name < b.name ? -1 : 1));
  }

  private candidatesFor(model: string): Array<{ entry: Entry; match: PriceMatchKind }> {
    const known = this.candidates.get(model);
    if (known) return known;
    const out: Array<{ entry: Entry; match: PriceMatchKind }> = [];
    const exact = this.exact.get(model);
    if (exact) out.push({ entry: exact, match: "exact" });
    const undated = undatedModel(model);
    const dated = undated === undefined ? undefined : this.exact.get(undated);
    if (dated) out.push({ entry: dated, match: "dated" });
    for (const p of this.patterns) if (p.re.test(model)) out.push({ entry: p, match: "pattern" });
    if (this.candidates.size > 10_000) this.candidates.clear(); // bounded: model names come from callers
    this.candidates.set(model, out);
    return out;
  }

  /** The price named for the model (exact, dated or pattern) in force at `at`; the default entry is separate. */
  named(model: string, at: Date): PriceMatch | undefined {
    for (const { entry, match } of this.candidatesFor(normalizeModel(model))) {
      const price = inForce(entry.versions, at);
      if (price) return { price, match, entry: entry.name };
    }
    return undefined;
  }

  /** The book's default entry in force at `at`. */
  default(at: Date): PriceMatch | undefined {
    const price = this.fallback && inForce(this.fallback.versions, at);
    return price ? { price, match: "default", entry: DEFAULT_ENTRY } : undefined;
  }

  /** `make()` once per key for this book version (bounded: keys come from prices and markups). */
  memo<T>(key: string, make: () => T): T {
    if (this.derived.has(key)) return this.derived.get(key) as T;
    const value = make();
    if (this.derived.size > 10_000) this.derived.clear();
    this.derived.set(key, value);
    return value;
  }

  match(model: string, at: Date): PriceMatch | undefined {
    return this.named(model, at) ?? this.default(at);
  }
}
