// Produces with acks from every in-sync replica. A send that Kafka has not acknowledged within the
// configured time fails as KafkaUnavailable, which ingest answers with 503 so Kong redelivers.
import type { Kafka, Message, Producer } from "kafkajs";
import { AppError } from "../domain/errors.ts";

export type TopicMessages = { topic: string; messages: Message[] };

export class UsageProducer {
  private readonly producer: Producer;
  private connected: Promise<void> | undefined;

  constructor(kafka: Kafka, private readonly timeoutMs: number) {
    // Not the idempotent producer: it allows one request in flight, which serializes every POST.
    // A retry that duplicates a message is harmless: the meter skips known event ids.
    this.producer = kafka.producer({
      allowAutoTopicCreation: false,
      retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1000 },
    });
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
    const nonEmpty = batches.filter((b) => b.messages.length > 0);
    if (nonEmpty.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no acknowledgement within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      await Promise.race([
        this.connect().then(() => this.producer.sendBatch({ topicMessages: nonEmpty, acks: -1 })),
        timeout,
      ]);
    } catch (err) {
      throw new AppError("kafka_unavailable", "Kafka is unavailable; retry later", { retryable: true, cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }
}
