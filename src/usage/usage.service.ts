// Usage read back for the API: totals and groups over a time range, and a day's TDL matrix.
import { Prisma, type Db } from "../db/client.ts";
import { LIMIT_FLAGS, type LimitFlag } from "../domain/limits.ts";
import { Decimal } from "../domain/money.ts";
import { toMatrix, type TdlMatrix } from "../domain/tdl.ts";
import { quantitiesOf, TOKEN_TYPES, type TokenType } from "../domain/token-types.ts";
import { PRICE_SQL, QUANTITY_SQL } from "../billing/token-type-sql.ts";

export type GroupBy = "day" | "model" | "route";

export type UsageTotals = {
  calls: number;
  billable_calls: number;
  input_tokens: number;
  output_tokens: number;
  /** Exact decimal string; never a float. */
  cost: string;
  /** The billed tokens and their cost by token type; the types are disjoint and sum to the totals. */
  by_token_type: Record<TokenType, { tokens: number; cost: string }>;
  /** Calls that broke a limit of the consumer's metadata anyway, by limit. */
  limit_flags: Record<LimitFlag, number>;
};

type Row = {
  key: string | null;
  calls: string;
  billable_calls: string;
  input_tokens: string;
  output_tokens: string;
  cost: string;
} & Record<string, string>;

const noFlags = (): Record<LimitFlag, number> =>
  Object.fromEntries(LIMIT_FLAGS.map((f) => [f, 0])) as Record<LimitFlag, number>;

const GROUP_KEY: Record<GroupBy, Prisma.Sql> = {
  day: Prisma.sql`to_char(local_date, 'YYYY-MM-DD')`,
  model: Prisma.sql`model`,
  route: Prisma.sql`coalesce(route_name, route_id, '(no route)')`,
};

const figures = (r: Row): UsageTotals => ({
  calls: Number(r.calls),
  billable_calls: Number(r.billable_calls),
  input_tokens: Number(r.input_tokens),
  output_tokens: Number(r.output_tokens),
  cost: new Decimal(r.cost).toFixed(), // numeric::text keeps the column scale's trailing zeros
  by_token_type: Object.fromEntries(
    TOKEN_TYPES.map((t) => [t, { tokens: Number(r[`q_${t}`]), cost: new Decimal(r[`c_${t}`]!).toFixed() }]),
  ) as UsageTotals["by_token_type"],
  limit_flags: Object.fromEntries(LIMIT_FLAGS.map((f) => [f, Number(r[`flag_${f}`])])) as Record<LimitFlag, number>,
});

/** Every event falls in exactly one group (no group key is null), so the totals are their sum. */
function sumOf(groups: UsageTotals[]): UsageTotals {
  const t = {
    calls: 0,
    billable_calls: 0,
    input_tokens: 0,
    output_tokens: 0,
    cost: new Decimal(0),
    limit_flags: noFlags(),
  };
  const byType = Object.fromEntries(TOKEN_TYPES.map((k) => [k, { tokens: 0, cost: new Decimal(0) }])) as Record<
    TokenType,
    { tokens: number; cost: Decimal }
  >;
  for (const g of groups) {
    for (const k of TOKEN_TYPES) {
      byType[k].tokens += g.by_token_type[k].tokens;
      byType[k].cost = byType[k].cost.plus(g.by_token_type[k].cost);
    }
    for (const f of LIMIT_FLAGS) t.limit_flags[f] += g.limit_flags[f];
    t.calls += g.calls;
    t.billable_calls += g.billable_calls;
    t.input_tokens += g.input_tokens;
    t.output_tokens += g.output_tokens;
    t.cost = t.cost.plus(g.cost);
  }
  const by_token_type = Object.fromEntries(
    TOKEN_TYPES.map((k) => [k, { tokens: byType[k].tokens, cost: byType[k].cost.toFixed() }]),
  ) as UsageTotals["by_token_type"];
  return { ...t, cost: t.cost.toFixed(), by_token_type };
}

// Tokens and cost count billable calls only, as invoices do; `calls` and `limit_flags` count every
// logged call.
const SUMS = Prisma.sql`
  count(*)::text AS calls,
  count(*) FILTER (WHERE billable)::text AS billable_calls,
  coalesce(sum(input_tokens) FILTER (WHERE billable), 0)::text AS input_tokens,
  coalesce(sum(output_tokens) FILTER (WHERE billable), 0)::text AS output_tokens,
  coalesce(sum(cost), 0)::text AS cost,
  ${Prisma.raw(
    TOKEN_TYPES.map(
      (t) =>
        `coalesce(sum(${QUANTITY_SQL[t]}) FILTER (WHERE billable), 0)::text AS q_${t}, ` +
        `coalesce(sum((${QUANTITY_SQL[t]}) * coalesce(${PRICE_SQL[t]}, 0)) FILTER (WHERE billable), 0)::text AS c_${t}`,
    ).join(",\n  "),
  )},
  ${Prisma.join(LIMIT_FLAGS.map((f) => Prisma.sql`count(*) FILTER (WHERE ${f} = ANY(limit_flags))::text AS ${Prisma.raw(`flag_${f}`)}`))}`;

/** `consumerId` null reads usage that no consumer could be attributed to. */
export async function usageOf(db: Db, consumerId: string | null, from: Date, to: Date, groupBy: GroupBy) {
  const who = consumerId === null ? Prisma.sql`consumer_id IS NULL` : Prisma.sql`consumer_id = ${consumerId}::uuid`;
  const where = Prisma.sql`WHERE ${who} AND occurred_at >= ${from} AND occurred_at < ${to}`;
  const rows = await db.$queryRaw<Row[]>`
    SELECT ${GROUP_KEY[groupBy]} AS key, ${SUMS} FROM usage_events ${where} GROUP BY 1 ORDER BY 1`;
  const groups = rows.map((g) => ({ key: g.key ?? "", ...figures(g) }));
  return { totals: sumOf(groups), groups };
}

/** The observed matrix of one local day: billable calls per slot and level. */
export async function observedMatrix(db: Db, consumerId: string, localDate: string): Promise<TdlMatrix> {
  const cells = await db.tdlCell.findMany({
    where: { consumerId, localDate: new Date(`${localDate}T00:00:00Z`) },
    select: { slot: true, level: true, calls: true },
  });
  return toMatrix(cells.map((c) => ({ slot: c.slot, level: c.level, value: c.calls })));
}

/**
 * The day's cells in detail: billable calls, tokens by type (the disjoint quantities, as invoices
 * bill them) and cost. Slots are named T1..T12 as in the matrix; levels count from 0.
 */
export async function observedCells(db: Db, consumerId: string, localDate: string) {
  const cells = await db.tdlCell.findMany({
    where: { consumerId, localDate: new Date(`${localDate}T00:00:00Z`) },
    orderBy: [{ slot: "asc" }, { level: "asc" }],
  });
  return cells
    .filter((c) => c.calls !== 0)
    .map((c) => {
      const q = quantitiesOf({
        input: Number(c.inputTokens),
        output: Number(c.outputTokens),
        cachedInput: Number(c.cachedInputTokens),
        cacheWrite: Number(c.cacheWriteTokens),
        reasoning: Number(c.reasoningTokens),
      });
      return {
        slot: `T${c.slot + 1}`,
        level: c.level,
        calls: c.calls,
        tokens: q,
        cost: new Decimal(c.cost.toFixed()).toFixed(),
      };
    });
}
