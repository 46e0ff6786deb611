// How a change of consumers' metadata, prices, plans, budgets or credit reaches every process that
// authorizes calls: this process drops its cache at once, the others when the notice reaches them
// through Redis. Services publish their own changes here, so no caller can forget to.
import type { Redis } from "ioredis";
import type { Warnings } from "../lib/logger.ts";

export const metadataChannel = (prefix: string) => `${prefix}:metadata-changed`;

export class MetadataChanges {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly log?: Warnings,
    /** This process's own cache, when it has one. */
    private readonly local?: { invalidate(): void },
  ) {}

  /** A failure to publish only delays the change by the caches' TTL. */
  async published(consumerIds: string[]): Promise<void> {
    this.local?.invalidate();
    if (consumerIds.length === 0) return;
    try {
      await this.redis.publish(metadataChannel(this.prefix), JSON.stringify(consumerIds));
    } catch (err) {
      this.log?.warn({ err }, "metadata change not published; other processes see it when their cache expires");
    }
  }
}
