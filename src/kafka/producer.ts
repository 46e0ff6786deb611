// Produces with acks from every in-sync replica. A send that Kafka has not acknowledged within the
// configured time fails as KafkaUnavailable, which ingest answers with 503 so Kong redelivers.
// Messages are sent in requests no larger than the topics' max.message.bytes (a partition's share
// of a request is one record batch, which the broker refuses above that size), gzip-compressed
// when large, one request after another so a consumer's messages keep their order.
import { CompressionTypes, type Kafka, type Message, type Producer } from "kafkajs";
import { AppError } from "../domain/errors.ts";
import { secondsSince, type Metrics } from "../ops/metrics.ts";

export type TopicMessages = { topic: string; messages: Message[] };

/** Record and batch framing that Kafka adds around a message's key, value and headers. */
const RECORD_OVERHEAD = 64;
const BATCH_OVERHEAD = 1024;
/** Requests smaller than this go uncompressed (compression costs more than it saves). */
const COMPRESS_FROM_BYTES = 16 * 1024;

const byteLength = (v: Buffer | string | null | undefined) => (v == null ? 0 : typeof v === "string" ? Buffer.byteLength(v) : v.length);

/** Bytes a message takes in a record batch, near enough to keep requests under the limit. */
export function messageBytes(m: Message): number {
  let n = RECORD_OVERHEAD + byteLength(m.key) + byteLength(m.value);
  for (const [k, v] of Object.entries(m.headers ?? {})) n += byteLength(k) + (Array.isArray(v) ? v.reduce((s, x) => s + byteLength(x), 0) : byteLength(v as Buffer | string | undefined));
  return n;
}

/** Splits the messages into requests of at most `maxBytes`, in order; a message over it stands alone. */
export function splitBySize(batches: TopicMessages[], maxBytes: number): Array<{ topicMessages: TopicMessages[]; bytes: number }> {
  const budget = maxBytes - BATCH_OVERHEAD;
  const requests: Array<{ topicMessages: TopicMessages[]; bytes: number }> = [];
  let current: { topicMessages: TopicMessages[]; bytes: number } | undefined;
  for (const { topic, messages } of batches) {
    for (const m of messages) {
      const size = messageBytes(m);
      if (!current || current.bytes + size > budget) requests.push((current = { topicMessages: [], bytes: 0 }));
      let group = current.topicMessages[current.topicMessages.length - 1];
      if (group?.topic !== topic) current.topicMessages.push((group = { topic, messages: [] }));
      group.messages.push(m);
      current.bytes += size;
    }
  }
  return requests;
}

export class UsageProducer {
  private readonly producer: Producer;
  private connected: Promise<void> | undefined;

  constructor(
    kafka: Kafka,
    private readonly timeoutMs: number,
    /** The topics' max.message.bytes. */
    readonly maxMessageBytes: number,
    private readonly metrics?: Metrics,
  ) {
    // Not the idempotent producer: it allows one request in flight, which serializes every POST.
    // A retry that duplicates a message is harmless: the meter skips known event ids.
    this.producer = kafka.producer({
      allowAutoTopicCreation: false,
      retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
    });
  }

  /** Whether one message fits in a record batch on our topics. */
  fits(m: Message): boolean {
    return messageBytes(m) <= this.maxMessageBytes - BATCH_OVERHEAD;
  }

  private connect(): Promise<void> {
    this.connected ??= this.producer.connect().catch((err) => {
      this.connected = undefined;
      throw err;
    });
    return this.connected;
  }

  /** Resolves only when Kafka has acknowledged every message (acks = all). */
  async send(batches: TopicMessages[]): Promise<void> {
    const requests = splitBySize(batches.filter((b) => b.messages.length > 0), this.maxMessageBytes);
    if (requests.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no acknowledgement within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    const sendAll = async () => {
      await this.connect();
      for (const r of requests) {
        const compression = r.bytes >= COMPRESS_FROM_BYTES ? CompressionTypes.GZIP : CompressionTypes.None;
        await this.producer.sendBatch({ topicMessages: r.topicMessages, acks: -1, compression });
      }
    };
    const t0 = performance.now();
    try {
      await Promise.race([sendAll(), timeout]);
      this.metrics?.produceSeconds.observe({ result: "ok" }, secondsSince(t0));
    } catch (err) {
      this.metrics?.produceSeconds.observe({ result: "failed" }, secondsSince(t0));
      this.metrics?.dependencyErrors.inc({ dependency: "kafka" });
      throw new AppError("kafka_unavailable", "Kafka is unavailable; retry later", { retryable: true, cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }
}
