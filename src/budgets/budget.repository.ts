// Budgets in PostgreSQL: versions (the current one is the highest) and committed spend, which is
// what metering has recorded in the consumer's TDL cells (billable calls only, in the billing
// time zone, so a budget's day, week or month has the same bounds as the matrix's days).
import type { Db, PrismaClient } from "../db/client.ts";
import type { Period } from "../domain/billing-period.ts";
import { Decimal } from "../domain/money.ts";
import type { Budget, BudgetPeriod } from "./budget.ts";

type Row = { consumerId: string; version: number; period: string; amount: { toFixed(): string } | string | null; tokens: bigint | string | null; thresholds: number[]; removed: boolean };

const toBudget = (r: Row): Budget => ({
  consumerId: r.consumerId,
  version: r.version,
  period: r.period as BudgetPeriod,
  amount: r.amount === null ? null : new Decimal(typeof r.amount === "string" ? r.amount : r.amount.toFixed()),
  tokens: r.tokens === null ? null : BigInt(r.tokens),
  thresholds: r.thresholds,
});

/** The consumer's budget in force, or null (never set, or removed). */
export async function currentBudget(db: Db, consumerId: string): Promise<Budget | null> {
  const r = await db.budgetVersion.findFirst({ where: { consumerId }, orderBy: { version: "desc" } });
  return r && !r.removed ? toBudget(r) : null;
}

/** The budgets in force of several consumers, in one query. */
export async function currentBudgets(db: Db, consumerIds: string[]): Promise<Map<string, Budget>> {
  const rows = await db.$queryRaw<Row[]>`
    SELECT DISTINCT ON (consumer_id) consumer_id::text AS "consumerId", version, period, amount::text AS amount, tokens::text AS tokens, thresholds, removed
    FROM budget_versions WHERE consumer_id = ANY(${consumerIds}::uuid[]) ORDER BY consumer_id, version DESC`;
  return new Map(rows.filter((r) => !r.removed).map((r) => [r.consumerId, toBudget(r)]));
}

export type BudgetChange = { period: BudgetPeriod; amount: Decimal | null; tokens: bigint | null; thresholds: number[] } | { removed: true };

/** Records a new version; the consumer row is locked so two changes get consecutive versions. */
export async function changeBudget(db: PrismaClient, consumerId: string, change: BudgetChange, actor: string) {
  return db.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM consumers WHERE id = ${consumerId}::uuid FOR UPDATE`;
    const last = await tx.budgetVersion.findFirst({ where: { consumerId }, orderBy: { version: "desc" } });
    if ("removed" in change && (!last || last.removed)) return null;
    const version = (last?.version ?? 0) + 1;
    const data =
      "removed" in change
        ? { period: last!.period, amount: last!.amount, tokens: last!.tokens, thresholds: last!.thresholds, removed: true }
        : { period: change.period, amount: change.amount?.toFixed() ?? null, tokens: change.tokens, thresholds: change.thresholds, removed: false };
    return tx.budgetVersion.create({ data: { consumerId, version, actor, ...data } });
  });
}

export function budgetHistory(db: Db, consumerId: string) {
  return db.budgetVersion.findMany({ where: { consumerId }, orderBy: { version: "asc" } });
}

export type Committed = { money: Decimal; tokens: bigint };

const localDay = (d: Date, timeZone: string) => d.toLocaleDateString("en-CA", { timeZone });

/** Billable spend metered in the period: the exact decimal sum and every token type together. */
export async function committedSpend(db: Db, consumerId: string, period: Period): Promise<Committed> {
  const from = localDay(period.startsAt, period.timeZone);
  const to = localDay(period.endsAt, period.timeZone);
  const [row] = await db.$queryRaw<{ cost: string | null; tokens: string | null }[]>`
    SELECT sum(cost)::text AS cost, sum(input_tokens + output_tokens)::text AS tokens
    FROM tdl_cells WHERE consumer_id = ${consumerId}::uuid AND local_date >= ${from}::date AND local_date < ${to}::date`;
  return { money: new Decimal(row?.cost ?? 0), tokens: BigInt(row?.tokens ?? 0) };
}
