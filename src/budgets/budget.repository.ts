// Budgets in PostgreSQL: versions (the current one is the highest) and committed spend, which is
// what metering has recorded in the TDL cells (billable calls only, in the billing time zone, so a
// budget's day, week or month has the same bounds as the matrix's days). A tag's budget is shared
// by every consumer carrying the tag now.
import { Prisma, type Db, type PrismaClient } from "../db/client.ts";
import { localDateOf, type Period } from "../domain/billing-period.ts";
import { Decimal } from "../domain/money.ts";
import type { CapOutputSetting } from "../authorize/output-cap.ts";
import { budgetPeriodOf, creditAllowance, type Budget, type BudgetOwner, type BudgetPeriod } from "./budget.ts";
import { walletsOf } from "../credits/credit-store.ts";
import { prismaSql } from "../db/sql.ts";

type Row = {
  consumerId: string | null;
  tag: string | null;
  version: number;
  period: string;
  amount: { toFixed(): string } | string | null;
  tokens: bigint | string | null;
  thresholds: number[];
  capOutput: string;
  removed: boolean;
};

const toBudget = (r: Row): Budget => ({
  owner: r.consumerId !== null ? { consumerId: r.consumerId } : { tag: r.tag! },
  version: r.version,
  period: budgetPeriodOf(r.period),
  amount: r.amount === null ? null : new Decimal(typeof r.amount === "string" ? r.amount : r.amount.toFixed()),
  tokens: r.tokens === null ? null : BigInt(r.tokens),
  thresholds: r.thresholds,
  capOutput: r.capOutput as CapOutputSetting,
});

const whereOwner = (o: BudgetOwner) => (o.consumerId !== undefined ? { consumerId: o.consumerId } : { tag: o.tag });

/** The owner's budget in force, or null (never set, or removed). */
export async function currentBudget(db: Db, owner: BudgetOwner): Promise<Budget | null> {
  const r = await db.budgetVersion.findFirst({ where: whereOwner(owner), orderBy: { version: "desc" } });
  return r && !r.removed ? toBudget(r) : null;
}

const LATEST = Prisma.sql`consumer_id::text AS "consumerId", tag, version, period, amount::text AS amount, tokens::text AS tokens, thresholds, cap_output AS "capOutput", removed`;

/**
 * Every budget each consumer answers to (its own first, then its tags'), and last, for a prepaid
 * consumer, its credit (held like a budget, see src/credits/credit-hold.ts), in three queries.
 */
export async function currentBudgets(db: Db, consumerIds: string[]): Promise<Map<string, Budget[]>> {
  const result = new Map<string, Budget[]>(consumerIds.map((id) => [id, []]));
  if (consumerIds.length === 0) return result;
  const own = await db.$queryRaw<Row[]>`
    SELECT DISTINCT ON (consumer_id) ${LATEST} FROM budget_versions
    WHERE consumer_id = ANY(${consumerIds}::uuid[]) ORDER BY consumer_id, version DESC`;
  for (const r of own) if (!r.removed) result.get(r.consumerId!)!.push(toBudget(r));
  const tagged = await db.$queryRaw<(Row & { member: string })[]>`
    WITH latest AS (SELECT DISTINCT ON (tag) ${LATEST} FROM budget_versions WHERE tag IS NOT NULL ORDER BY tag, version DESC)
    SELECT latest.*, c.id::text AS member FROM latest JOIN consumers c ON latest.tag = ANY(c.tags)
    WHERE c.id = ANY(${consumerIds}::uuid[]) AND NOT latest.removed ORDER BY latest.tag`;
  for (const r of tagged) result.get(r.member)!.push(toBudget(r));
  const prepaid = await db.$queryRaw<
    { id: string }[]
  >`SELECT id::text FROM consumers WHERE id = ANY(${consumerIds}::uuid[]) AND prepaid`;
  const wallets = prepaid.length
    ? await walletsOf(
        prismaSql(db),
        prepaid.map((r) => r.id),
      )
    : new Map();
  // a prepaid consumer with no credit at all holds against an empty balance: every priced call is refused
  for (const r of prepaid) result.get(r.id)!.push(creditAllowance(wallets.get(r.id) ?? { consumerId: r.id }));
  return result;
}

export type BudgetChange =
  | {
      period: BudgetPeriod;
      amount: Decimal | null;
      tokens: bigint | null;
      thresholds: number[];
      capOutput: CapOutputSetting;
    }
  | { removed: true };

/** Records a new version; changes of one owner take turns (row or advisory lock) and get consecutive versions. */
export async function changeBudget(db: PrismaClient, owner: BudgetOwner, change: BudgetChange, actor: string) {
  return db.$transaction(async (tx) => {
    if (owner.consumerId !== undefined)
      await tx.$queryRaw`SELECT id FROM consumers WHERE id = ${owner.consumerId}::uuid FOR UPDATE`;
    else await tx.$queryRaw`SELECT pg_advisory_xact_lock(hashtext(${`budget:tag:${owner.tag}`}))::text`;
    const last = await tx.budgetVersion.findFirst({ where: whereOwner(owner), orderBy: { version: "desc" } });
    if ("removed" in change && (!last || last.removed)) return null;
    const version = (last?.version ?? 0) + 1;
    const data =
      "removed" in change
        ? {
            period: last!.period,
            amount: last!.amount,
            tokens: last!.tokens,
            thresholds: last!.thresholds,
            capOutput: last!.capOutput,
            removed: true,
          }
        : {
            period: change.period,
            amount: change.amount?.toFixed() ?? null,
            tokens: change.tokens,
            thresholds: change.thresholds,
            capOutput: change.capOutput,
            removed: false,
          };
    return tx.budgetVersion.create({ data: { ...whereOwner(owner), version, actor, ...data } });
  });
}

export function budgetHistory(db: Db, owner: BudgetOwner) {
  return db.budgetVersion.findMany({ where: whereOwner(owner), orderBy: { version: "asc" } });
}

/** The consumers a tag's budget covers now. */
export async function consumersWithTag(db: Db, tag: string): Promise<string[]> {
  return (await db.consumer.findMany({ where: { tags: { has: tag } }, select: { id: true } })).map((c) => c.id);
}

export type Committed = { money: Decimal; tokens: bigint };

/** Billable spend metered in the period: the exact decimal sum and every token type together. */
export async function committedSpend(db: Db, owner: BudgetOwner, period: Period): Promise<Committed> {
  const from = period.key; // a period's key is its first local day
  const to = localDateOf(period.endsAt, period.timeZone);
  const whose =
    owner.consumerId !== undefined
      ? Prisma.sql`consumer_id = ${owner.consumerId}::uuid`
      : Prisma.sql`consumer_id IN (SELECT id FROM consumers WHERE ${owner.tag} = ANY(tags))`;
  const [row] = await db.$queryRaw<{ cost: string | null; tokens: string | null }[]>`
    SELECT sum(cost)::text AS cost, sum(input_tokens + output_tokens)::text AS tokens
    FROM tdl_cells WHERE ${whose} AND local_date >= ${from}::date AND local_date < ${to}::date`;
  return { money: new Decimal(row?.cost ?? 0), tokens: BigInt(row?.tokens ?? 0) };
}
