// Consumers' plans as the meter and authorize read them: each consumer's book and markup in one
// query, each book's prices indexed once per book version (a price added bumps the version, so
// the next read rebuilds that book's index and no other).
import type { Db } from "../db/client.ts";
import type { Plan } from "../domain/consumer-pricing.ts";
import { PriceBookIndex, type BookPrice } from "../domain/price-book.ts";
import { policiesOf, rateFromRow, type ConsumerPolicies } from "../consumers/consumer.repository.ts";

type Cached = { version: number; name: string; index: PriceBookIndex };

function bookPriceFromRow(r: Parameters<typeof rateFromRow>[0] & { bookId: string; model: string }): BookPrice {
  return { ...rateFromRow(r), bookId: r.bookId, model: r.model };
}

export class PlanCache {
  private readonly books = new Map<string, Cached>();

  /** The book at its current version, read from PostgreSQL only when the version moved. */
  async book(db: Db, id: string, version: number, name: string): Promise<Cached> {
    const known = this.books.get(id);
    if (known && known.version === version) return known;
    const rows = await db.priceBookPrice.findMany({ where: { bookId: id }, orderBy: { effectiveFrom: "asc" } });
    const fresh = { version, name, index: new PriceBookIndex(rows.map(bookPriceFromRow)) };
    if (this.books.size > 1_000) this.books.clear(); // bounded: one entry per book in use
    this.books.set(id, fresh);
    return fresh;
  }

  /**
   * Plans from consumers' book references (one query elsewhere read them); books load only when their version moved.
   */
  async fromRefs(db: Db, refs: ConsumerPolicies["plans"] | ConsumerPolicies["own"]): Promise<Map<string, Plan>> {
    const out = new Map<string, Plan>();
    for (const r of refs) {
      const book = await this.book(db, r.book.id, r.book.version, r.book.name);
      const viaTag = "viaTag" in r ? r.viaTag : undefined;
      out.set(r.consumerId, {
        bookId: r.book.id,
        bookName: book.name,
        version: book.version,
        markupPercent: r.markupPercent,
        index: book.index,
        ...(viaTag !== undefined ? { viaTag } : {}),
      });
    }
    return out;
  }

  /** The plan and own prices of each consumer that has them. */
  async pricingOf(db: Db, consumerIds: string[]): Promise<{ plans: Map<string, Plan>; own: Map<string, Plan> }> {
    if (consumerIds.length === 0) return { plans: new Map(), own: new Map() };
    const p = await policiesOf(db, consumerIds);
    return { plans: await this.fromRefs(db, p.plans), own: await this.fromRefs(db, p.own) };
  }
}
