// How far the meter's consumer group is behind, per partition of the raw topic: committed offset
// against the end of the partition (lag), and whether a partition with lag has stopped moving
// (stalled: its committed offset unchanged for METER_STALL_AFTER_MS). Read from Kafka's record of
// the group, so any process (the API too) can report on the meter; sampled every few seconds so a
// stall is seen without waiting for a scrape to notice two values.
import type { Config } from "../config.ts";
import type { DependencyChecks } from "./health.ts";
import type { Metrics } from "./metrics.ts";

type PartitionProgress = {
  partition: number;
  end: number;
  committed: number;
  lag: number;
  stalled: boolean;
  unchanged_for_ms: number;
};
export type MeterProgressReport = {
  status: "ok" | "lagging" | "stalled" | "unknown";
  partitions: PartitionProgress[];
  error?: string;
  sampled_at?: string;
};

const SAMPLE_EVERY_MS = 5_000;

export class MeterProgress {
  private readonly since = new Map<number, { committed: number; at: number }>();
  private last: MeterProgressReport = { status: "unknown", partitions: [] };
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly checks: DependencyChecks,
    private readonly config: Config,
    private readonly metrics: Metrics,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sample(), SAMPLE_EVERY_MS);
    this.timer.unref();
    void this.sample();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The latest sample, taken afresh (a scrape or probe sees the state of now). */
  async report(): Promise<MeterProgressReport> {
    await this.sample();
    return this.last;
  }

  private async sample(): Promise<void> {
    const { rawTopic, groupId } = this.config.kafka;
    try {
      const admin = await this.checks.kafkaAdmin();
      const ends = await admin.fetchTopicOffsets(rawTopic);
      const [group] = await admin.fetchOffsets({ groupId, topics: [rawTopic] });
      const now = Date.now();
      const partitions = ends
        .map(({ partition, high, low }) => {
          const end = Number(high);
          const raw = Number(group?.partitions.find((p) => p.partition === partition)?.offset ?? -1);
          const committed = raw < 0 ? Number(low) : raw; // nothing committed yet: everything from the start is lag
          const seen = this.since.get(partition);
          if (!seen || seen.committed !== committed) this.since.set(partition, { committed, at: now });
          const unchanged = now - (this.since.get(partition)?.at ?? now);
          const lag = Math.max(0, end - committed);
          return {
            partition,
            end,
            committed,
            lag,
            stalled: lag > 0 && unchanged >= this.config.ops.stallAfterMs,
            unchanged_for_ms: unchanged,
          };
        })
        .sort((a, b) => a.partition - b.partition);
      for (const p of partitions) {
        this.metrics.consumerLag.set({ partition: String(p.partition) }, p.lag);
        this.metrics.partitionStalled.set({ partition: String(p.partition) }, p.stalled ? 1 : 0);
      }
      const status = partitions.some((p) => p.stalled)
        ? "stalled"
        : partitions.some((p) => p.lag > 0)
          ? "lagging"
          : "ok";
      this.last = { status, partitions, sampled_at: new Date(now).toISOString() };
    } catch (err) {
      this.metrics.dependencyErrors.inc({ dependency: "kafka" });
      this.last = { status: "unknown", partitions: this.last.partitions, error: (err as Error).message };
    }
  }
}
