// The price book command: export a book's prices in force as a catalog file, or import a catalog
// (ours, LiteLLM's, or the shipped list prices) into a book, like the API's import. Exit codes:
// 0 done, 1 some entries were rejected (the rest imported), 2 nothing done (usage, file, book).
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import {
  CATALOG_FORMATS,
  parseCatalog,
  shippedCatalog,
  type CatalogFormat,
  type ParsedCatalog,
} from "../src/catalog/catalog.ts";
import { loadConfig } from "../src/config.ts";
import { rateFromRow } from "../src/consumers/consumer.repository.ts";
import { Prices } from "../src/price-books/prices.ts";
import { presentRate } from "../src/http/routes/consumers.presenter.ts";
import { withDatabase } from "./with-database.ts";

const USAGE = `usage: npm run prices -- export <book>
       npm run prices -- import <book> (<file> [--format ${CATALOG_FORMATS.join("|")}] | --shipped) [--effective-from ISO-8601] [--json]`;

/** The prices in force now, one per entry, in our catalog format (import reads it back). */
async function exportBook(prices: Prices, ref: string): Promise<number> {
  const book = await prices.book(ref);
  const now = new Date();
  // versions come oldest first per entry: the last one in effect is in force
  const current = new Map<string, (typeof book.prices)[number]>();
  for (const p of book.prices) if (p.effectiveFrom <= now) current.set(p.model, p);
  const inForce = [...current.values()];
  const models = inForce.map((r) => {
    const { id: _id, ...prices } = presentRate(rateFromRow(r));
    const set = Object.fromEntries(Object.entries(prices).filter(([, v]) => v !== null));
    return { model: r.model, ...set, ...(r.tiering ? { tiering: r.tiering } : {}) };
  });
  console.log(
    JSON.stringify(
      { format: "tokenmeter-price-catalog/1", book: book.name, exported_at: new Date().toISOString(), models },
      null,
      2,
    ),
  );
  return 0;
}

async function readCatalog(
  file: string | undefined,
  shipped: boolean,
  format: string,
): Promise<ParsedCatalog | string> {
  if (shipped) return shippedCatalog();
  if (!file) return USAGE;
  if (!(CATALOG_FORMATS as readonly string[]).includes(format))
    return `--format must be one of ${CATALOG_FORMATS.join(", ")}`;
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    return `${file}: cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
  try {
    return parseCatalog(format as CatalogFormat, JSON.parse(text));
  } catch (err) {
    return `${file}: ${(err as Error).message}`;
  }
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      format: { type: "string", default: "tokenmeter" },
      shipped: { type: "boolean" },
      "effective-from": { type: "string" },
      json: { type: "boolean" },
    },
  });
  const [command, book, file] = positionals;
  if (!book || !["export", "import"].includes(command ?? "") || positionals.length > 3) {
    console.error(USAGE);
    return 2;
  }
  const at = values["effective-from"] ? new Date(values["effective-from"]) : new Date();
  if (Number.isNaN(at.getTime())) {
    console.error("--effective-from must be an ISO 8601 date-time, e.g. 2026-12-01T00:00:00Z");
    return 2;
  }
  const config = loadConfig();
  return withDatabase(config, async ({ db, changes }) => {
    const prices = new Prices(db, changes);
    if (command === "export") return await exportBook(prices, book);
    const catalog = await readCatalog(file, values.shipped ?? false, values.format!);
    if (typeof catalog === "string") {
      console.error(catalog);
      return 2;
    }
    const r = await prices.importPrices(book, catalog.prices, at);
    const rejected = [...catalog.rejected, ...r.rejected];
    if (values.json) {
      const report = { effective_from: at.toISOString(), added: r.added, unchanged: r.unchanged, rejected };
      console.log(JSON.stringify({ ...report, repriced_events: r.repriced }, null, 2));
      return rejected.length > 0 ? 1 : 0;
    }
    for (const m of r.added) console.log(`  added      ${m}`);
    for (const m of rejected) console.log(`  rejected   ${m.model}: ${m.reason}`);
    console.log(
      `${r.added.length} added, ${r.unchanged.length} unchanged, ${rejected.length} rejected, ${r.repriced} calls repriced (from ${at.toISOString()})`,
    );
    return rejected.length > 0 ? 1 : 0;
  });
}

process.exitCode = await main();
