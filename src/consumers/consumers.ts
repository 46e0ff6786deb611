// Consumers for the API and the commands: create and change one (with its metadata versions),
// read them with their rate histories, add and delete rates, import a Kong config. Every change
// that reaches authorize is published on the metadata channel here.
import type { MetadataChanges } from "../authorize/metadata-changes.ts";
import type { Db, PrismaClient } from "../db/client.ts";
import { planBook } from "../price-books/price-book.service.ts";
import type { Rate } from "../domain/pricing.ts";
import { rateHistories } from "./consumer.repository.ts";
import type { ConsumerBody, NewConsumer } from "./consumer.schema.ts";
import {
  addRate,
  createConsumer,
  deleteFutureRate,
  resolveConsumer,
  updateConsumer,
  type PriceDefaults,
} from "./consumer.service.ts";
import { changedConsumerIds, importKongConfig } from "./import.service.ts";
import { listVersions, type Actor } from "./metadata.ts";

type ConsumerRow = Awaited<ReturnType<typeof resolveConsumer>>;
export type ConsumerWithRates = { consumer: ConsumerRow; rates: Rate[]; plan: { id: string; name: string } | null };
/** `search`: part of a username, custom id or Kong id, in any case. */
export type ListFilter = { configured?: boolean; search?: string; after?: string; limit: number };

export class Consumers {
  constructor(
    private readonly db: PrismaClient,
    private readonly defaults: PriceDefaults,
    private readonly changes: MetadataChanges,
  ) {}

  private async withRates(consumer: ConsumerRow): Promise<ConsumerWithRates> {
    const [rates, plans] = await Promise.all([rateHistories(this.db, [consumer.id]), this.planBooks([consumer])]);
    return { consumer, rates: rates.get(consumer.id) ?? [], plan: plans.get(consumer.planId ?? "") ?? null };
  }

  /** The books the consumers are billed by, by id, for their answers. */
  private async planBooks(consumers: ConsumerRow[]): Promise<Map<string, { id: string; name: string }>> {
    const ids = [...new Set(consumers.map((c) => c.planId).filter((id): id is string => id !== null))];
    if (ids.length === 0) return new Map();
    const books = await this.db.priceBook.findMany({ where: { id: { in: ids } }, select: { id: true, name: true } });
    return new Map(books.map((b) => [b.id, b]));
  }

  async create(input: NewConsumer, by: Actor): Promise<ConsumerWithRates> {
    const { plan, ...body } = input;
    const onPlan = plan
      ? async (tx: Db, id: string) => {
          const book = await planBook(tx, plan.price_book);
          await tx.consumer.update({
            where: { id },
            data: { planId: book!.id, planMarkupPercent: plan.markup_percent?.toFixed() ?? null },
          });
        }
      : undefined;
    const { consumer } = await createConsumer(this.db, body, this.defaults, by, onPlan);
    await this.changes.published([consumer.id]);
    return this.show(consumer.id);
  }

  async update(ref: string, input: ConsumerBody, by: Actor): Promise<ConsumerWithRates> {
    const { consumer, changed } = await updateConsumer(this.db, ref, input, by);
    if (changed.length > 0) await this.changes.published([consumer.id]);
    return this.withRates(consumer);
  }

  async show(ref: string): Promise<ConsumerWithRates> {
    return this.withRates(await resolveConsumer(this.db, ref));
  }

  /** A page in id order; `next` is the last id when the page is full. */
  async list(f: ListFilter): Promise<{ page: ConsumerWithRates[]; next: string | null }> {
    const like = f.search ? { contains: f.search, mode: "insensitive" as const } : undefined;
    const rows = await this.db.consumer.findMany({
      where: {
        configured: f.configured,
        id: f.after ? { gt: f.after } : undefined,
        ...(like ? { OR: [{ username: like }, { customId: like }, { kongId: like }] } : {}),
      },
      orderBy: { id: "asc" },
      take: f.limit,
    });
    const [rates, plans] = await Promise.all([
      rateHistories(
        this.db,
        rows.map((row) => row.id),
      ),
      this.planBooks(rows),
    ]);
    return {
      page: rows.map((consumer) => ({
        consumer,
        rates: rates.get(consumer.id) ?? [],
        plan: plans.get(consumer.planId ?? "") ?? null,
      })),
      next: rows.length === f.limit ? rows.at(-1)!.id : null,
    };
  }

  async versions(ref: string) {
    const c = await resolveConsumer(this.db, ref);
    return { consumer: c, versions: await listVersions(this.db, c.id) };
  }

  /** Who a consumer key belongs to, as the dashboard names it. */
  async nameOf(consumerId: string) {
    return this.db.consumer.findUniqueOrThrow({ where: { id: consumerId }, select: { id: true, username: true } });
  }

  async addRate(ref: string, rate: Parameters<typeof addRate>[2], by: Actor) {
    const added = await addRate(this.db, ref, rate, by);
    await this.changes.published([added.rate.consumerId]);
    return added;
  }

  async deleteFutureRate(ref: string, rateId: string, by: Actor): Promise<void> {
    await this.changes.published([await deleteFutureRate(this.db, ref, rateId, by)]);
  }

  async importKong(text: string, opts: { by: Actor; dryRun: boolean }) {
    const report = await importKongConfig(this.db, text, { defaults: this.defaults, ...opts });
    if (!report.dry_run) await this.changes.published(changedConsumerIds(report));
    return report;
  }
}
