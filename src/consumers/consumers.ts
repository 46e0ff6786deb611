// Consumers for the API and the commands: create and change one (with its metadata versions),
// read them with their rate histories, add and delete rates, import a Kong config. Every change
// that reaches authorize is published on the metadata channel here.
import type { MetadataChanges } from "../authorize/metadata-changes.ts";
import type { PrismaClient } from "../db/client.ts";
import type { Rate } from "../domain/pricing.ts";
import { rateHistories } from "./consumer.repository.ts";
import type { ConsumerBody } from "./consumer.schema.ts";
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
export type ConsumerWithRates = { consumer: ConsumerRow; rates: Rate[] };
export type ListFilter = { configured?: boolean; after?: string; limit: number };

export class Consumers {
  constructor(
    private readonly db: PrismaClient,
    private readonly defaults: PriceDefaults,
    private readonly changes: MetadataChanges,
  ) {}

  private async withRates(consumer: ConsumerRow): Promise<ConsumerWithRates> {
    return { consumer, rates: (await rateHistories(this.db, [consumer.id])).get(consumer.id) ?? [] };
  }

  async create(input: ConsumerBody, by: Actor): Promise<ConsumerWithRates> {
    const { consumer } = await createConsumer(this.db, input, this.defaults, by);
    await this.changes.published([consumer.id]);
    return this.withRates(consumer);
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
    const rows = await this.db.consumer.findMany({
      where: { configured: f.configured, id: f.after ? { gt: f.after } : undefined },
      orderBy: { id: "asc" },
      take: f.limit,
    });
    const rates = await rateHistories(
      this.db,
      rows.map((row) => row.id),
    );
    return {
      page: rows.map((consumer) => ({ consumer, rates: rates.get(consumer.id) ?? [] })),
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
