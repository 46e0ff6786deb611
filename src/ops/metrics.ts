// Prometheus metrics of one process (prom-client), served at /metrics by the API and by each
// worker. Names follow Prometheus conventions (tokenmeter_ prefix, _total counters, _seconds
// histograms); token usage is also published under the OpenTelemetry GenAI name
// gen_ai_client_token_usage with gen_ai_token_type = input | output, so existing dashboards work.
// Labels are bounded sets; per-consumer series are off unless METRICS_PER_CONSUMER=true.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const DELAY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
const TOKEN_BUCKETS = [16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304];

export type Metrics = ReturnType<typeof createMetrics>;

export function createMetrics(opts: { perConsumer?: boolean } = {}) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "tokenmeter_process_" });
  const r = { registers: [registry] };
  return {
    registry,
    perConsumer: opts.perConsumer ?? false,
    ingestRequests: new Counter({
      ...r,
      name: "tokenmeter_ingest_requests_total",
      help: "Ingest requests by HTTP status answered",
      labelNames: ["status"],
    }),
    ingestEntries: new Counter({
      ...r,
      name: "tokenmeter_ingest_entries_total",
      help: "Log entries taken by ingest, by result and reason",
      labelNames: ["result", "reason"],
    }),
    produceSeconds: new Histogram({
      ...r,
      name: "tokenmeter_kafka_produce_seconds",
      help: "Time until Kafka acknowledged a produce (acks=all)",
      buckets: LATENCY_BUCKETS,
      labelNames: ["result"],
    }),
    meterEvents: new Counter({
      ...r,
      name: "tokenmeter_meter_events_total",
      help: "Raw messages handled by the meter: metered, merged (a report of a call already stored), duplicate or dead_lettered",
      labelNames: ["result"],
    }),
    meterAnomalies: new Counter({
      ...r,
      name: "tokenmeter_meter_anomalies_total",
      help: "Events metered with an anomaly (no_token_count, a payload not whole, ...), by anomaly",
      labelNames: ["anomaly"],
    }),
    meterDeadLetters: new Counter({
      ...r,
      name: "tokenmeter_meter_dead_letters_total",
      help: "Messages the meter dead-lettered, by reason class",
      labelNames: ["reason"],
    }),
    meterChunkSeconds: new Histogram({
      ...r,
      name: "tokenmeter_meter_chunk_seconds",
      help: "Time to meter and commit one chunk of messages",
      buckets: LATENCY_BUCKETS,
    }),
    tokenizeSeconds: new Histogram({
      ...r,
      name: "tokenmeter_meter_tokenize_seconds",
      help: "Time to count one event's payload tokens",
      buckets: LATENCY_BUCKETS,
    }),
    meterRetries: new Counter({
      ...r,
      name: "tokenmeter_meter_retries_total",
      help: "Chunks retried because a dependency was unavailable",
      labelNames: ["dependency"],
    }),
    consumerLag: new Gauge({
      ...r,
      name: "tokenmeter_meter_consumer_lag_messages",
      help: "Messages on the raw topic not yet committed by the meter, per partition",
      labelNames: ["partition"],
    }),
    partitionStalled: new Gauge({
      ...r,
      name: "tokenmeter_meter_partition_stalled",
      help: "1 when a partition has lag and its committed offset has not moved for METER_STALL_AFTER_MS",
      labelNames: ["partition"],
    }),
    endToEndSeconds: new Histogram({
      ...r,
      name: "tokenmeter_meter_end_to_end_seconds",
      help: "From Kong's started_at to the event committed in PostgreSQL",
      buckets: DELAY_BUCKETS,
    }),
    dependencyErrors: new Counter({
      ...r,
      name: "tokenmeter_dependency_errors_total",
      help: "Failed calls to a dependency",
      labelNames: ["dependency"],
    }),
    billingJobs: new Counter({
      ...r,
      name: "tokenmeter_billing_jobs_total",
      help: "Billing jobs finished, by job name and status",
      labelNames: ["job", "status"],
    }),
    invoices: new Gauge({ ...r, name: "tokenmeter_invoices", help: "Invoices by status", labelNames: ["status"] }),
    deadLettersStored: new Gauge({
      ...r,
      name: "tokenmeter_dead_letters",
      help: "Dead letters recorded in PostgreSQL, by stage and whether they were replayed",
      labelNames: ["stage", "replayed"],
    }),
    genAiTokens: new Histogram({
      ...r,
      name: "gen_ai_client_token_usage",
      help: "Tokens per metered call (OpenTelemetry GenAI: gen_ai.client.token.usage)",
      labelNames: ["gen_ai_token_type", "gen_ai_operation_name"],
      buckets: TOKEN_BUCKETS,
    }),
    consumerTokens: new Counter({
      ...r,
      name: "tokenmeter_consumer_tokens_total",
      help: "Billable tokens per consumer (METRICS_PER_CONSUMER)",
      labelNames: ["consumer", "gen_ai_token_type"],
    }),
    consumerCost: new Counter({
      ...r,
      name: "tokenmeter_consumer_cost_total",
      help: "Cost per consumer in the billing currency, for monitoring only; invoices are exact (METRICS_PER_CONSUMER)",
      labelNames: ["consumer"],
    }),
  };
}

/** Seconds since `t0` (performance.now()). */
export const secondsSince = (t0: number) => (performance.now() - t0) / 1000;

/** Sets the invoice gauge from PostgreSQL (a refresher for /metrics). */
export function invoiceRefresher(
  metrics: Metrics,
  invoices: { countsByStatus(): Promise<Record<string, number>> },
): () => Promise<void> {
  return async () => {
    const counts = await invoices.countsByStatus();
    metrics.invoices.reset();
    for (const [status, n] of Object.entries(counts)) metrics.invoices.set({ status }, n);
  };
}

/** Sets the dead-letter gauge from PostgreSQL (a refresher for /metrics). */
export function deadLetterRefresher(
  metrics: Metrics,
  letters: { counts(): Promise<Array<{ stage: string; replayed: boolean; count: number }>> },
): () => Promise<void> {
  return async () => {
    metrics.deadLettersStored.reset();
    for (const r of await letters.counts())
      metrics.deadLettersStored.set({ stage: r.stage, replayed: String(r.replayed) }, r.count);
  };
}
