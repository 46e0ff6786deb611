// Produces with acks from every in-sync replica. A send that Kafka has not acknowledged within the
// configured time fails as KafkaUnavailable, which ingest answers with 503 so Kong redelivers.
// Messages are sent in requests no larger than the topics' max.message.bytes (a partition's share
// of a request is one record batch, which the broker refuses above that size), gzip-compressed
// only when large (compression costs more CPU than a local network saves), one request after
// another so a consumer's messages keep their order.
// Sends made while a request is in flight are coalesced into the next one: eight Kong batches
// posted at once become one produce request, not eight (fewer requests for the broker to handle,
// fewer record batches to frame and checksum). Each caller still learns its own outcome.
import { CompressionTypes, type Kafka, type Message, type Producer } from "kafkajs";
import { AppError } from "../domain/errors.ts";
import { secondsSince, type Metrics } from "../ops/metrics.ts";
import { withinTimeout } from "../lib/timeout.ts";

export type TopicMessages = { topic: string; messages: Message[] };

/** Record and batch framing that Kafka adds around a message's key, value and headers. */
const RECORD_OVERHEAD = 64;
const BATCH_OVERHEAD = 1024;
/** Requests smaller than this go uncompressed (compression costs more than it saves). */
const COMPRESS_FROM_BYTES = 1024 * 1024;

type Pending = { batches: TopicMessages[]; resolve: () => void; reject: (err: unknown) => void };

const byteLength = (v: Buffer | string | null | undefined) =>
  v == null ? 0 : typeof v === "string" ? Buffer.byteLength(v) : v.length;

/** Bytes a message takes in a record batch, near enough to keep requests under the limit. */
function messageBytes(m: Message): number {
  let n = RECORD_OVERHEAD + byteLength(m.key) + byteLength(m.value);
  for (const [k, v] of Object.entries(m.headers ?? {}))
    n +=
      byteLength(k) +
      (Array.isArray(v) ? v.reduce((s, x) => s + byteLength(x), 0) : byteLength(v as Buffer | string | undefined));
  return n;
}

/** Splits the messages into requests of at most `maxBytes`, in order; a message over it stands alone. */
function splitBySize(
  batches: TopicMessages[],
  maxBytes: number,
): Array<{ topicMessages: TopicMessages[]; bytes: number }> {
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

/** One entry per topic, messages in the order given. */
function mergeTopics(batches: TopicMessages[]): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const { topic, messages } of batches) {
    if (messages.length === 0) continue;
    const list = byTopic.get(topic);
    if (list) list.push(...messages);
    else byTopic.set(topic, [...messages]);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
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

  private pending: Pending[] = [];
  private flushing = false;
  /** Produce requests made so far (sends coalesce, so usually fewer than calls to send). */
  requests = 0;

  /** Resolves only when Kafka has acknowledged every message (acks = all). */
  async send(batches: TopicMessages[]): Promise<void> {
    if (!batches.some((b) => b.messages.length > 0)) return;
    let entry: Pending | undefined;
    const acknowledged = new Promise<void>((resolve, reject) =>
      this.pending.push((entry = { batches, resolve, reject })),
    );
    // not sent in time: dropped, the caller answers 503 and Kong sends it again
    const drop = () => {
      const i = this.pending.indexOf(entry!);
      if (i >= 0) this.pending.splice(i, 1);
    };
    void this.flush();
    const t0 = performance.now();
    try {
      await withinTimeout(this.timeoutMs, `no acknowledgement within ${this.timeoutMs} ms`, acknowledged, drop);
      this.metrics?.produceSeconds.observe({ result: "ok" }, secondsSince(t0));
    } catch (err) {
      this.metrics?.produceSeconds.observe({ result: "failed" }, secondsSince(t0));
      this.metrics?.dependencyErrors.inc({ dependency: "kafka" });
      throw new AppError("kafka_unavailable", "Kafka is unavailable; retry later", { cause: err });
    }
  }

  /** Sends everything pending as one run of requests; what arrives meanwhile goes in the next run. */
  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        const taken = this.pending;
        this.pending = [];
        try {
          await this.sendAll(taken.flatMap((p) => p.batches));
          for (const p of taken) p.resolve();
        } catch (err) {
          for (const p of taken) p.reject(err);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private async sendAll(batches: TopicMessages[]): Promise<void> {
    await this.connect();
    for (const r of splitBySize(mergeTopics(batches), this.maxMessageBytes)) {
      const compression = r.bytes >= COMPRESS_FROM_BYTES ? CompressionTypes.GZIP : CompressionTypes.None;
      this.requests++;
      await this.producer.sendBatch({ topicMessages: r.topicMessages, acks: -1, compression });
    }
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }
}
