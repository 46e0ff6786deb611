// Which billing periods are due to close or finalize, and which consumers each one bills.
import type { Config } from "../config.ts";
import type { Prisma, Db, PrismaClient } from "../db/client.ts";
import { endedPeriods, periodOfKey, type Period } from "../domain/billing-period.ts";
import { closeStamping, holdMeters, periodInvoiceId } from "./period-invoices.ts";

export type BillingSettings = Config["billing"];

export type PeriodRow = Prisma.BillingPeriodGetPayload<object>;

/**
 * When a closed period's drafts finalize: after the grace for late events, then the review window.
 * The window counts from the closing when that is later, so drafts made late (a worker that was
 * down) still get their whole review.
 */
export function finalizeAfterOf(endsAt: Date, closedAt: Date, s: Pick<BillingSettings, "graceMs" | "reviewMs">): Date {
  return new Date(Math.max(endsAt.getTime() + s.graceMs, closedAt.getTime()) + s.reviewMs);
}

/**
 * Records a period as closed (or returns it if it already is, its finalize time unchanged), and
 * returns once no meter stamps calls with its invoices any more (src/billing/period-invoices.ts).
 * The defaults suit a period drafted and finalized by hand: it may finalize as soon as it ended.
 */
export async function recordPeriod(
  db: PrismaClient,
  p: Period,
  finalizeAfter: Date = p.endsAt,
  closedAt: Date = new Date(),
): Promise<PeriodRow> {
  const row = await db.billingPeriod.upsert({
    where: { kind_key_timeZone: { kind: p.kind, key: p.key, timeZone: p.timeZone } },
    create: {
      kind: p.kind,
      key: p.key,
      timeZone: p.timeZone,
      startsAt: p.startsAt,
      endsAt: p.endsAt,
      closedAt,
      finalizeAfter,
    },
    update: {},
  });
  await closeStamping(db);
  return row;
}

/**
 * Ended periods not recorded yet, from the earliest thing no invoice has taken: a period with calls
 * stamped for its invoices, a billable event no invoice claimed, or a correction (price or tokens)
 * of an invoice already finalized, billed in the period it was made.
 */
export async function duePeriods(db: Db, s: BillingSettings, now: Date): Promise<Period[]> {
  const [first] = await db.$queryRaw<{ at: Date | null; key: string | null }[]>`
    SELECT least(
      (SELECT min(occurred_at) FROM usage_events WHERE billable AND invoice_id IS NULL AND consumer_id IS NOT NULL),
      (SELECT min(created_at) FROM price_adjustments WHERE invoice_id IS NULL)) AS at,
      (SELECT min(cp.key) FROM consumer_periods cp
        WHERE cp.kind = ${s.period}::period_kind AND cp.time_zone = ${s.timeZone} AND NOT EXISTS (
          SELECT 1 FROM billing_periods bp WHERE bp.kind = cp.kind AND bp.time_zone = cp.time_zone AND bp.key = cp.key)) AS key`;
  const stamped = first?.key ? periodOfKey(first.key, s.period, s.timeZone).startsAt : null;
  const since = [first?.at, stamped].filter((d): d is Date => d instanceof Date).sort((x, y) => +x - +y)[0];
  if (!since) return [];
  const ended = endedPeriods(since, now, s.period, s.timeZone);
  if (ended.length === 0) return [];
  const recorded = await db.billingPeriod.findMany({
    where: { kind: s.period, timeZone: s.timeZone, key: { in: ended.map((p) => p.key) } },
    select: { key: true },
  });
  const done = new Set(recorded.map((r) => r.key));
  return ended.filter((p) => !done.has(p.key));
}

/** Closed periods whose grace and review window are over. */
export async function periodsToFinalize(db: Db, s: BillingSettings, now: Date): Promise<PeriodRow[]> {
  return db.billingPeriod.findMany({
    where: { kind: s.period, timeZone: s.timeZone, status: "closed", finalizeAfter: { lte: now } },
    orderBy: { startsAt: "asc" },
  });
}

/**
 * Consumers an invoice run for this period must visit: those whose calls were stamped for an
 * invoice it has not made yet, those with billable events no invoice has taken up to the period's end (late events
 * of finalized periods to adjust), those with a rate correction still to bill, and those that
 * already have a draft for it.
 */
export async function consumersToInvoice(db: Db, period: PeriodRow): Promise<string[]> {
  const rows = await db.$queryRaw<{ consumer_id: string }[]>`
    SELECT cp.consumer_id::text FROM consumer_periods cp
      WHERE cp.kind = ${period.kind}::period_kind AND cp.time_zone = ${period.timeZone} AND cp.key = ${period.key}
        AND NOT EXISTS (SELECT 1 FROM invoices i WHERE i.consumer_id = cp.consumer_id AND i.period_id = ${period.id}::uuid)
    UNION
    SELECT DISTINCT consumer_id::text FROM usage_events
      WHERE billable AND invoice_id IS NULL AND consumer_id IS NOT NULL AND occurred_at < ${period.endsAt}
    UNION
    SELECT consumer_id::text FROM price_adjustments WHERE invoice_id IS NULL AND created_at < ${period.endsAt}
    UNION
    SELECT consumer_id::text FROM invoices WHERE period_id = ${period.id}::uuid AND status = 'draft'
    ORDER BY 1`;
  return rows.map((r) => r.consumer_id);
}

/**
 * Calls stamped under other period settings (BILLING_PERIOD or BILLING_TIMEZONE changed while their
 * period was open) name an invoice no run will make. They are released and bill as unstamped calls
 * do; an invoice already made under the old settings keeps its calls. Meters are held meanwhile (the
 * stamping lock), so none stamps a call under the old settings between the release and its record.
 */
export async function releaseForeignStamps(db: PrismaClient, s: BillingSettings): Promise<number> {
  return db.$transaction(
    async (tx) => {
      const foreign = await tx.$queryRaw<
        Array<{ kind: Period["kind"]; timeZone: string; key: string; consumerId: string }>
      >`
        SELECT kind::text AS kind, time_zone AS "timeZone", key, consumer_id::text AS "consumerId" FROM consumer_periods
        WHERE NOT (kind = ${s.period}::period_kind AND time_zone = ${s.timeZone})`;
      if (foreign.length === 0) return 0;
      await holdMeters(tx);
      let released = 0;
      for (const f of foreign) {
        const id = periodInvoiceId(f.consumerId, f);
        const made = await tx.invoice.findUnique({ where: { id }, select: { id: true } });
        if (!made)
          released += await tx.$executeRaw`
            UPDATE usage_events SET invoice_id = NULL WHERE consumer_id = ${f.consumerId}::uuid AND invoice_id = ${id}::uuid`;
        await tx.consumerPeriod.delete({
          where: {
            kind_timeZone_key_consumerId: { kind: f.kind, timeZone: f.timeZone, key: f.key, consumerId: f.consumerId },
          },
        });
      }
      return released;
    },
    { timeout: 600_000 },
  );
}
