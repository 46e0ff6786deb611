// What the usage API reports for a set of calls, as SQL aggregates over usage_events, named once:
// read straight from the events for part of a day, and kept per day in usage_daily (daily-rollup.ts)
// for whole days. Tokens and cost count billable calls only, as invoices do; `calls` and the limit
// flags count every logged call.
import { LIMIT_FLAGS } from "../domain/limits.ts";
import { TOKEN_TYPES } from "../domain/token-types.ts";
import { PRICE_SQL, QUANTITY_SQL } from "../billing/token-type-sql.ts";

export type SumColumn = { name: string; sql: string; type: "bigint" | "numeric" };

export const SUM_COLUMNS: readonly SumColumn[] = [
  { name: "calls", sql: "count(*)", type: "bigint" },
  { name: "billable_calls", sql: "count(*) FILTER (WHERE billable)", type: "bigint" },
  { name: "input_tokens", sql: "coalesce(sum(input_tokens) FILTER (WHERE billable), 0)", type: "bigint" },
  { name: "output_tokens", sql: "coalesce(sum(output_tokens) FILTER (WHERE billable), 0)", type: "bigint" },
  { name: "cost", sql: "coalesce(sum(cost), 0)", type: "numeric" },
  ...TOKEN_TYPES.flatMap((t): SumColumn[] => [
    { name: `q_${t}`, sql: `coalesce(sum(${QUANTITY_SQL[t]}) FILTER (WHERE billable), 0)`, type: "bigint" },
    {
      name: `c_${t}`,
      sql: `coalesce(sum((${QUANTITY_SQL[t]}) * coalesce(${PRICE_SQL[t]}, 0)) FILTER (WHERE billable), 0)`,
      type: "numeric",
    },
  ]),
  ...LIMIT_FLAGS.map(
    (f): SumColumn => ({ name: `flag_${f}`, sql: `count(*) FILTER (WHERE '${f}' = ANY(limit_flags))`, type: "bigint" }),
  ),
];

/**
 * The route a usage_events row is grouped under: its name, else its id. Read from its call route by a
 * lookup per row: a tiny table always in memory, and every query using this expression is unchanged.
 */
export const ROUTE_SQL =
  "coalesce((SELECT coalesce(r.route_name, r.route_id) FROM call_routes r WHERE r.id = call_route_id), '(no route)')";

/** `sum AS name, ...` over usage_events rows, every value as text (exact, and bigint-safe). */
export const SUMS_OF_EVENTS = SUM_COLUMNS.map((c) => `(${c.sql})::text AS ${c.name}`).join(",\n  ");

/** A usage_daily row's key and sums over usage_events rows, for `GROUP BY 1, 2, 3, 4`. */
export const DAILY_ROW_OF_EVENTS = `consumer_id, local_date, model, ${ROUTE_SQL} AS route, ${SUM_COLUMNS.map((c) => `${c.sql} AS ${c.name}`).join(", ")}`;

/** The same sums over usage_daily rows. */
export const SUMS_OF_DAYS = SUM_COLUMNS.map((c) => `coalesce(sum(${c.name}), 0)::text AS ${c.name}`).join(",\n  ");
