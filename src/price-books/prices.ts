// Price books, consumers' own prices and plans for the API and the commands. Every change that
// reprices calls or changes what authorize charges is published on the metadata channel here.
import type { MetadataChanges } from "../authorize/metadata-changes.ts";
import { parseCatalog, shippedCatalog, type CatalogFormat, type ParsedCatalog } from "../catalog/catalog.ts";
import type { PrismaClient } from "../db/client.ts";
import type { Decimal } from "../domain/money.ts";
import { notFound, validationFailed } from "../domain/errors.ts";
import { addOverride, overridesOf } from "./overrides.service.ts";
import {
  addPrice,
  assignPlan,
  assignTagPlan,
  changeBook,
  createBook,
  importPrices,
  resolveBook,
  type BookInput,
  type PriceInput,
} from "./price-book.service.ts";
import type { Correction } from "./repricing.ts";

type PlanChoice = { bookRef: string | null; markupPercent: Decimal | null };

export class Prices {
  constructor(
    private readonly db: PrismaClient,
    private readonly changes: MetadataChanges,
  ) {}

  createBook(input: BookInput) {
    return createBook(this.db, input);
  }

  changeBook(ref: string, input: Parameters<typeof changeBook>[2]) {
    return changeBook(this.db, ref, input);
  }

  /** Shared books; a consumer's own prices are shown with the consumer. */
  books() {
    return this.db.priceBook.findMany({ where: { ownerConsumerId: null }, orderBy: { name: "asc" } });
  }

  /** A book with every price version. */
  async book(ref: string) {
    const book = await resolveBook(this.db, ref);
    const prices = await this.db.priceBookPrice.findMany({
      where: { bookId: book.id },
      orderBy: [{ model: "asc" }, { effectiveFrom: "asc" }],
    });
    return { ...book, prices };
  }

  async addPrice(bookRef: string, input: PriceInput, correction?: Correction) {
    const added = await addPrice(this.db, bookRef, input, correction);
    await this.changes.published(added.consumerIds);
    return added;
  }

  /** A catalog file (or the shipped list prices) into a book, from `at` on. */
  async importCatalog(bookRef: string, format: CatalogFormat | "shipped", catalog: unknown, at: Date) {
    if (format !== "shipped" && catalog === undefined)
      throw validationFailed(`catalog: required with format ${format}`, "catalog");
    let parsed: ParsedCatalog;
    try {
      parsed = format === "shipped" ? shippedCatalog() : parseCatalog(format, catalog);
    } catch (err) {
      throw validationFailed(`catalog.${(err as Error).message}`, "catalog");
    }
    const report = await this.importPrices(bookRef, parsed.prices, at);
    return { ...report, rejected: [...parsed.rejected, ...report.rejected] };
  }

  /** Prices already read from a catalog into a book, from `at` on; importing the same twice adds nothing. */
  async importPrices(bookRef: string, prices: PriceInput[], at: Date) {
    const report = await importPrices(this.db, bookRef, prices, at);
    await this.changes.published(report.consumerIds);
    return report;
  }

  overridesOf(consumerRef: string) {
    return overridesOf(this.db, consumerRef);
  }

  async addOverride(consumerRef: string, input: PriceInput, correction?: Correction) {
    const added = await addOverride(this.db, consumerRef, input, correction);
    await this.changes.published([added.consumerId]);
    return added;
  }

  async assignPlan(consumerRef: string, plan: PlanChoice) {
    const assigned = await assignPlan(this.db, consumerRef, plan);
    await this.changes.published([assigned.consumerId]);
    return assigned;
  }

  async assignTagPlan(tag: string, plan: PlanChoice) {
    const assigned = await assignTagPlan(this.db, tag, plan);
    await this.changes.published(assigned.consumerIds);
    return assigned;
  }

  async tagPlan(tag: string) {
    const p = await this.db.tagPlan.findUnique({ where: { tag }, include: { book: true } });
    if (!p) throw notFound(`tag ${tag} has no plan`);
    return p;
  }
}
