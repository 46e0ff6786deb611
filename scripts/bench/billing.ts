// Billing at scale: 1 000 consumers with 5 million billable events in one month, then the month's
// invoices drafted through the product's own path (draftInvoice, 2 at a time like the invoice
// worker), usage reads through the API at that size, and the storage an event takes.
// `node --import tsx scripts/bench/billing.ts [--consumers 1000 --events 5000000]` on an empty,
// migrated database (DATABASE_URL; scripts/bench.sh prepares one).
import { randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import pg from "pg";
import { draftInvoice } from "../../src/billing/invoice.service.ts";
import { periodInvoiceId } from "../../src/billing/period-invoices.ts";
import { consumersToInvoice, recordPeriod } from "../../src/billing/period.service.ts";
import { closeServices, connectServices } from "../../src/bootstrap.ts";
import { loadConfig } from "../../src/config.ts";
import { periodOfKey } from "../../src/domain/billing-period.ts";
import { startApi } from "../../src/composition.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { line, loadAverage, percentile } from "./stats.ts";
import { storagePerEvent } from "./storage.ts";
import { createPrisma } from "../../src/db/client.ts";
import { makeMonth } from "../../src/usage/event-partitions.ts";
import { DAILY_ROW_OF_EVENTS, SUM_COLUMNS } from "../../src/usage/usage-sums.ts";

const { values: a } = parseArgs({
  options: {
    consumers: { type: "string", default: "1000" },
    events: { type: "string", default: "5000000" },
    reads: { type: "string", default: "600" },
    concurrency: { type: "string", default: "2" },
  },
});
const CONSUMERS = Number(a.consumers);
const EVENTS = Number(a.events);
const PERIOD = "2026-10-01";
const ADMIN_KEY = "bench-admin-key";
const INPUT_PRICE = "0.000000083";
const OUTPUT_PRICE = "0.00000033";

/**
 * Consumers and rates straight into the tables, then the events as one generated INSERT (indexes built after, as a bulk
 * load would).
 */
async function load(client: pg.Client): Promise<number> {
  const t0 = performance.now();
  await client.query(
    `INSERT INTO consumers (id, username, tdl_matrix, updated_at)
     SELECT gen_random_uuid(), 'bench-' || n, '{}'::jsonb, now() FROM generate_series(0, $1::int - 1) n`,
    [CONSUMERS],
  );
  await client.query(
    `INSERT INTO consumer_rates (id, consumer_id, effective_from, input_cost_per_token, output_cost_per_token)
     SELECT gen_random_uuid(), id, '1970-01-01', $1, $2 FROM consumers`,
    [INPUT_PRICE, OUTPUT_PRICE],
  );
  await client.query(
    `CREATE TEMP TABLE bench_consumers AS
     SELECT (row_number() OVER (ORDER BY c.id) - 1)::int AS n, c.id, r.id AS rate_id, NULL::uuid AS invoice_id
     FROM consumers c JOIN consumer_rates r ON r.consumer_id = c.id`,
  );
  // the month is open while its calls are metered: each is stamped with its consumer's invoice, as the meter does
  const ids = (await client.query<{ id: string }>("SELECT id::text FROM bench_consumers")).rows.map((r) => r.id);
  const month = { kind: "monthly" as const, timeZone: "UTC", key: PERIOD };
  await client.query(
    "UPDATE bench_consumers b SET invoice_id = t.invoice_id FROM unnest($1::uuid[], $2::uuid[]) AS t(id, invoice_id) WHERE b.id = t.id",
    [ids, ids.map((id) => periodInvoiceId(id, month))],
  );
  await client.query(
    "INSERT INTO consumer_periods (kind, time_zone, key, consumer_id) SELECT 'monthly', 'UTC', $1, id FROM bench_consumers",
    [PERIOD],
  );
  const indexes = (
    await client.query<{ indexdef: string; indexname: string }>(
      "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'usage_events' AND indexname <> 'usage_events_pkey'",
    )
  ).rows;
  for (const i of indexes) await client.query(`DROP INDEX ${i.indexname}`);
  // the month's table, as the billing tick makes it before its calls arrive
  const db = createPrisma(loadConfig(process.env).databaseUrl);
  await makeMonth(db, { year: Number(PERIOD.slice(0, 4)), month: Number(PERIOD.slice(5, 7)) });
  await db.$disconnect();
  await client.query(
    `INSERT INTO usage_events (id, consumer_id, occurred_at, received_at, model, status, upstream_status, billable, input_tokens,
       output_tokens, input_source, output_source, rate_id, input_cost_per_token, output_cost_per_token, cost, local_date, slot, level,
       invoice_id)
     SELECT 'bench-' || g, c.id, e.at, e.at, CASE WHEN g % 3 = 0 THEN 'gpt-4o-mini' ELSE 'gpt-4o' END, 200, '200', true, e.it, e.ot,
       'counted', 'counted', c.rate_id, $2::numeric, $3::numeric, e.it * $2::numeric + e.ot * $3::numeric,
       (e.at AT TIME ZONE 'UTC')::date, extract(hour FROM e.at AT TIME ZONE 'UTC')::int / 2, 0, c.invoice_id
     FROM generate_series(0, $1::int - 1) g
     JOIN bench_consumers c ON c.n = g % $4::int
     CROSS JOIN LATERAL (SELECT timestamptz '${PERIOD} 00:00:00+00' + ((g::bigint * 2654435761) % 2678400000) * interval '1 millisecond' AS at,
                                (100 + (g::bigint * 7919) % 2000)::int AS it, (50 + (g::bigint * 104729) % 800)::int AS ot) e`,
    [EVENTS, INPUT_PRICE, OUTPUT_PRICE, CONSUMERS],
  );
  // a partitioned index is listed as ON ONLY the parent; built here on every month
  for (const i of indexes) await client.query(i.indexdef.replace(" ON ONLY ", " ON "));
  // the daily rollup the meter would have kept
  await client.query(
    `INSERT INTO usage_daily (consumer_id, local_date, model, route, ${SUM_COLUMNS.map((c) => c.name).join(", ")})
     SELECT ${DAILY_ROW_OF_EVENTS} FROM usage_events GROUP BY 1, 2, 3, 4`,
  );
  await client.query("ANALYZE usage_events");
  await client.query("ANALYZE usage_daily");
  return (performance.now() - t0) / 1000;
}

const config = loadConfig({
  ...process.env,
  LOG_LEVEL: "warn",
  ADMIN_API_KEY: ADMIN_KEY,
  KAFKA_TOPIC_RAW: `bench.${randomUUID().slice(0, 8)}.raw`,
});
const client = new pg.Client({ connectionString: config.databaseUrl });
await client.connect();
const loadSeconds = await load(client);
const bytes = await storagePerEvent(client);
console.log(
  line({
    billing: "load",
    consumers: CONSUMERS,
    events: EVENTS,
    seconds: loadSeconds,
    table_bytes_per_event: Math.round(bytes.table),
    index_bytes_per_event: Math.round(bytes.indexes),
    row_bytes: bytes.row,
    load_avg: loadAverage(),
  }),
);

const logger = createLogger("warn");
const services = await connectServices(config, logger);
const period = await recordPeriod(services.db, periodOfKey(PERIOD, "monthly", "UTC"));
const settings = { ...config.billing, period: "monthly" as const, timeZone: "UTC" };
const consumers = await consumersToInvoice(services.db, period);
const t0 = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: Number(a.concurrency) }, async () => {
    while (next < consumers.length) {
      const consumerId = consumers[next++]!;
      await draftInvoice(services.db, { consumerId, periodId: period.id, settings, now: new Date(), finalize: false });
    }
  }),
);
const draftSeconds = (performance.now() - t0) / 1000;
const sums = (
  await client.query<{ invoices: string; subtotal: string; cost: string }>(
    `SELECT (SELECT count(*) FROM invoices) AS invoices, (SELECT sum(subtotal) FROM invoices)::text AS subtotal, (SELECT sum(cost) FROM usage_events)::text AS cost`,
  )
).rows[0]!;
console.log(
  line({
    billing: "draft",
    invoices: sums.invoices,
    seconds: draftSeconds,
    invoices_per_s: Number(sums.invoices) / draftSeconds,
    target_seconds: 30,
    ratio_to_target: draftSeconds / 30,
    subtotals_equal_event_costs: String(sums.subtotal === sums.cost),
    load_avg: loadAverage(),
  }),
);

const app = await startApi({ ...services, config, logger });
const ids = (await client.query<{ id: string }>("SELECT id FROM consumers")).rows.map((r) => r.id);
const groupings = ["", "&group_by=day", "&group_by=model"];
// 90 days ending inside the month, at times of day that leave partial days at both ends
const FROM = "2026-07-23T10:30:00Z";
const TO = "2026-10-21T15:45:00Z";
const callsIn = new Map(
  (
    await client.query<{ id: string; n: string }>(
      "SELECT consumer_id::text AS id, count(*) AS n FROM usage_events WHERE occurred_at >= $1 AND occurred_at < $2 GROUP BY 1",
      [FROM, TO],
    )
  ).rows.map((r) => [r.id, Number(r.n)]),
);
const ms: number[] = [];
for (let i = 0; i < Number(a.reads); i++) {
  const id = ids[(i * 7919) % ids.length]!;
  const url = `/v1/consumers/${id}/usage?from=${FROM}&to=${TO}${groupings[i % groupings.length]}`;
  const t = performance.now();
  const res = await app.inject({ method: "GET", url, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  ms.push(performance.now() - t);
  if (res.statusCode !== 200) throw new Error(`usage read answered ${res.statusCode}: ${res.body}`);
  const calls = res.json().totals.calls;
  if (calls !== (callsIn.get(id) ?? 0))
    throw new Error(`usage read shows ${calls} calls, the events ${callsIn.get(id)}`);
}
ms.sort((x, y) => x - y);
console.log(
  line({
    billing: "usage_reads",
    reads: ms.length,
    events_in_table: EVENTS,
    days: 90,
    p50_ms: percentile(ms, 50),
    p99_ms: percentile(ms, 99),
    target_p99_ms: 50,
    load_avg: loadAverage(),
  }),
);
await app.close();
await closeServices(services);
await client.end();
