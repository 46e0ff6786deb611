// Drift: our count of the logged payloads against the provider's reported figure, per consumer,
// model and local day, for the calls that have both. Events whose drift passes the threshold are
// listed, largest first, so an operator can look at the payloads behind them.
import { Prisma, type Db } from "../db/client.ts";

export type DriftQuery = { from: Date; to: Date; consumerId?: string; threshold: number; limit: number };

type GroupRow = {
  consumer_id: string | null;
  model: string;
  day: string;
  compared: bigint;
  counted_input: bigint;
  provider_input: bigint;
  counted_output: bigint;
  provider_output: bigint;
  beyond: bigint;
};
type EventRow = {
  id: string;
  consumer_id: string | null;
  model: string;
  occurred_at: Date;
  counted_input_tokens: number | null;
  provider_input_tokens: number | null;
  counted_output_tokens: number | null;
  provider_output_tokens: number | null;
  drift: string;
};

/** Relative drift of one direction: |counted - provider| / provider (provider 0 counts as 1). */
const driftSql = (counted: string, provider: string) =>
  `coalesce(abs(${counted} - ${provider})::numeric / greatest(${provider}, 1), 0)`;
const EVENT_DRIFT = Prisma.raw(
  `greatest(${driftSql("counted_input_tokens", "provider_input_tokens")}, ${driftSql("counted_output_tokens", "provider_output_tokens")})`,
);
const COMPARED = Prisma.raw(
  "(counted_input_tokens IS NOT NULL AND provider_input_tokens IS NOT NULL OR counted_output_tokens IS NOT NULL AND provider_output_tokens IS NOT NULL)",
);

const ratio = (a: bigint, b: bigint) => (b === 0n ? null : Number(a - b) / Number(b));

export async function driftReport(db: Db, q: DriftQuery) {
  const who = q.consumerId ? Prisma.sql`AND consumer_id = ${q.consumerId}::uuid` : Prisma.empty;
  const where = Prisma.sql`WHERE occurred_at >= ${q.from} AND occurred_at < ${q.to} AND billable AND ${COMPARED} ${who}`;
  const groups = await db.$queryRaw<GroupRow[]>`
    SELECT consumer_id::text, model, to_char(local_date, 'YYYY-MM-DD') AS day, count(*) AS compared,
           coalesce(sum(counted_input_tokens) FILTER (WHERE provider_input_tokens IS NOT NULL), 0)::bigint AS counted_input,
           coalesce(sum(provider_input_tokens) FILTER (WHERE counted_input_tokens IS NOT NULL), 0)::bigint AS provider_input,
           coalesce(sum(counted_output_tokens) FILTER (WHERE provider_output_tokens IS NOT NULL), 0)::bigint AS counted_output,
           coalesce(sum(provider_output_tokens) FILTER (WHERE counted_output_tokens IS NOT NULL), 0)::bigint AS provider_output,
           count(*) FILTER (WHERE ${EVENT_DRIFT} > ${q.threshold}) AS beyond
    FROM usage_events ${where} GROUP BY 1, 2, 3 ORDER BY 3, 1, 2`;
  const events = await db.$queryRaw<EventRow[]>`
    SELECT id, consumer_id::text, model, occurred_at, counted_input_tokens, provider_input_tokens, counted_output_tokens, provider_output_tokens,
           ${EVENT_DRIFT}::text AS drift
    FROM usage_events ${where} AND ${EVENT_DRIFT} > ${q.threshold}
    ORDER BY ${EVENT_DRIFT} DESC, id LIMIT ${q.limit}`;
  return {
    threshold: q.threshold,
    groups: groups.map((g) => ({
      consumer_id: g.consumer_id,
      model: g.model,
      day: g.day,
      compared_calls: Number(g.compared),
      input: {
        counted: Number(g.counted_input),
        provider: Number(g.provider_input),
        drift: ratio(g.counted_input, g.provider_input),
      },
      output: {
        counted: Number(g.counted_output),
        provider: Number(g.provider_output),
        drift: ratio(g.counted_output, g.provider_output),
      },
      events_beyond_threshold: Number(g.beyond),
    })),
    events_beyond_threshold: events.map((e) => ({
      id: e.id,
      consumer_id: e.consumer_id,
      model: e.model,
      occurred_at: e.occurred_at.toISOString(),
      input: { counted: e.counted_input_tokens, provider: e.provider_input_tokens },
      output: { counted: e.counted_output_tokens, provider: e.provider_output_tokens },
      drift: Number(e.drift),
    })),
  };
}
