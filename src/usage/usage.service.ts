// Usage read back for the API: totals and groups over a time range, and a day's TDL matrix.
import { Prisma, type Db } from "../db/client.ts";
import { LIMIT_FLAGS, type LimitFlag } from "../domain/limits.ts";
import { Decimal } from "../domain/money.ts";
import { toMatrix, type TdlMatrix } from "../domain/tdl.ts";
import { quantitiesOf, TOKEN_TYPES, type TokenType } from "../domain/token-types.ts";
import { addDays, localDateOf, localMidnight } from "../domain/billing-period.ts";
import { ROUTE_SQL, SUMS_OF_DAYS, SUMS_OF_EVENTS } from "./usage-sums.ts";

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
  route: Prisma.raw(ROUTE_SQL),
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

type Part = { from: Date; to: Date } | { firstDay: string; lastDay: string };

/**
 * A range as the parts it is read from: its whole local days (in the billing time zone, as events
 * record them) from the daily rollup, the partial days at either end from the events.
 */
function rangeParts(from: Date, to: Date, timeZone: string): Part[] {
  let firstDay = localDateOf(from, timeZone);
  if (localMidnight(firstDay, timeZone) < from) firstDay = addDays(firstDay, 1);
  const lastEnd = localDateOf(to, timeZone);
  const lastDay = addDays(lastEnd, -1);
  if (firstDay > lastDay) return [{ from, to }];
  const startsAt = localMidnight(firstDay, timeZone);
  const endsAt = localMidnight(lastEnd, timeZone);
  const edge = (a: Date, b: Date): Part[] => (a < b ? [{ from: a, to: b }] : []);
  return [...edge(from, startsAt), { firstDay, lastDay }, ...edge(endsAt, to)];
}

const ROLLUP_KEY: Record<GroupBy, string> = {
  day: "to_char(local_date, 'YYYY-MM-DD')",
  model: "model",
  route: "route",
};

async function partRows(db: Db, consumerId: string | null, part: Part, groupBy: GroupBy): Promise<Row[]> {
  const who = consumerId === null ? Prisma.sql`consumer_id IS NULL` : Prisma.sql`consumer_id = ${consumerId}::uuid`;
  if ("from" in part)
    return db.$queryRaw<Row[]>`
      SELECT ${GROUP_KEY[groupBy]} AS key, ${Prisma.raw(SUMS_OF_EVENTS)} FROM usage_events
      WHERE ${who} AND occurred_at >= ${part.from} AND occurred_at < ${part.to} GROUP BY 1`;
  // a group a merge moved every call out of keeps a row of zeros: it has no calls, so it is no group
  return db.$queryRaw<Row[]>`
    SELECT ${Prisma.raw(ROLLUP_KEY[groupBy])} AS key, ${Prisma.raw(SUMS_OF_DAYS)} FROM usage_daily
    WHERE ${who} AND local_date >= ${part.firstDay}::date AND local_date <= ${part.lastDay}::date
    GROUP BY 1 HAVING sum(calls) <> 0`;
}

/** `consumerId` null reads usage that no consumer could be attributed to. */
export async function usageOf(
  db: Db,
  consumerId: string | null,
  from: Date,
  to: Date,
  groupBy: GroupBy,
  timeZone: string,
) {
  const byKey = new Map<string, UsageTotals[]>();
  for (const part of rangeParts(from, to, timeZone))
    for (const r of await partRows(db, consumerId, part, groupBy)) {
      const key = r.key ?? "";
      byKey.set(key, [...(byKey.get(key) ?? []), figures(r)]);
    }
  const groups = [...byKey.keys()].sort().map((key) => ({ key, ...sumOf(byKey.get(key)!) }));
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
