// Drafting and finalizing one consumer's invoice for one period, in ONE transaction: a job that
// dies half-way leaves a complete draft or nothing. The unique (consumer, period) row is locked
// first, so two runs for the same pair take turns and never make two invoices.
import type { Prisma, PrismaClient } from "../db/client.ts";
import { periodContaining, periodJson } from "../domain/billing-period.ts";
import { Decimal, roundToMinorUnit } from "../domain/money.ts";
import {
  buildLines,
  requestFeeLines,
  subtotalOf,
  type LateEvent,
  type PriceCorrection,
  type UsageAtPrice,
} from "./invoice-lines.ts";
import { priceColumns, quantityColumns } from "./token-type-sql.ts";
import { planCharges } from "./plan-charges.ts";
import { creditLines } from "./invoice-credits.ts";
import { lockInvoiceOf, recordStatusChange } from "./invoice.repository.ts";
import { addToOutbox } from "../alerts/outbox.ts";
import { issueInvoiceNumber } from "./invoice-numbers.ts";
import type { BillingSettings, PeriodRow as BillingPeriodRow } from "./period.service.ts";
import { periodInvoiceId } from "./period-invoices.ts";

/** held_unpriced: asked to finalize, kept as a draft because billable calls on it have no price. */
export type DraftOutcome = "drafted" | "finalized" | "unchanged" | "empty" | "held_unpriced";

type Tx = Prisma.TransactionClient;
type InvoiceAlert = "invoice.finalized" | "invoice.drafted" | "invoice.unpriced_calls";

type DraftArgs = {
  consumerId: string;
  periodId: string;
  settings: BillingSettings;
  now: Date;
  finalize: boolean;
  /** Who finalizes, for the invoice's history: a billing run unless an operator did it by hand. */
  actor?: string;
  reason?: string;
  /** Finalize even with unpriced billable calls on the invoice (an operator's explicit word). */
  allowUnpriced?: boolean;
  /** Runs just before commit; a failure here rolls everything back (used to prove atomicity). */
  beforeCommit?: () => Promise<void>;
};

/** Rate corrections made before the period ended and not billed yet become this invoice's. */
async function claimCorrections(tx: Tx, invoiceId: string, a: DraftArgs, endsAt: Date): Promise<PriceCorrection[]> {
  await tx.$executeRaw`
    UPDATE price_adjustments SET invoice_id = ${invoiceId}::uuid
    WHERE consumer_id = ${a.consumerId}::uuid AND invoice_id IS NULL AND created_at < ${endsAt}`;
  const rows = await tx.priceAdjustment.findMany({ where: { invoiceId } });
  return rows.map((r) => ({
    ...r,
    fromUnitPrice: new Decimal(r.fromUnitPrice.toFixed()),
    toUnitPrice: new Decimal(r.toUnitPrice.toFixed()),
  }));
}

/**
 * The meter stamped the period's calls with this invoice's id while the period was open. Calls it
 * stored after the period closed (the grace window's late calls) carry none and are claimed here,
 * as are those stamped for an invoice made before stamping existed (a different id).
 */
async function claimUnstamped(tx: Tx, invoiceId: string, consumerId: string, period: BillingPeriodRow) {
  await tx.$executeRaw`
    UPDATE usage_events SET invoice_id = ${invoiceId}::uuid
    WHERE consumer_id = ${consumerId}::uuid AND billable AND invoice_id IS NULL
      AND occurred_at >= ${period.startsAt} AND occurred_at < ${period.endsAt}`;
  const stamped = periodInvoiceId(consumerId, period);
  if (stamped !== invoiceId)
    await tx.$executeRaw`
      UPDATE usage_events SET invoice_id = ${invoiceId}::uuid
      WHERE consumer_id = ${consumerId}::uuid AND invoice_id = ${stamped}::uuid`;
}

/** Takes the late events of earlier, finalized periods onto this invoice (still-open periods keep theirs). */
async function claimLateEvents(tx: Tx, invoiceId: string, a: DraftArgs, startsAt: Date): Promise<void> {
  const candidates = await tx.$queryRaw<{ id: string; occurred_at: Date }[]>`
    SELECT id, occurred_at FROM usage_events
    WHERE consumer_id = ${a.consumerId}::uuid AND billable AND invoice_id IS NULL AND occurred_at < ${startsAt}`;
  if (candidates.length === 0) return;
  const s = a.settings;
  const keys = [...new Set(candidates.map((c) => periodContaining(c.occurred_at, s.period, s.timeZone).key))];
  const finalized = new Set(
    (
      await tx.billingPeriod.findMany({
        where: { kind: s.period, timeZone: s.timeZone, key: { in: keys }, status: "finalized" },
        select: { key: true },
      })
    ).map((p) => p.key),
  );
  const ids = candidates
    .filter((c) => finalized.has(periodContaining(c.occurred_at, s.period, s.timeZone).key))
    .map((c) => c.id);
  if (ids.length)
    await tx.$executeRaw`UPDATE usage_events SET invoice_id = ${invoiceId}::uuid WHERE id = ANY(${ids}) AND invoice_id IS NULL`;
}

// Every read of billed events names the consumer: the (consumer_id, invoice_id, occurred_at) index
// then finds an invoice's events directly instead of scanning every consumer's.
async function linesOf(tx: Tx, invoiceId: string, a: DraftArgs, startsAt: Date, endsAt: Date) {
  const current = await tx.$queryRaw<UsageAtPrice[]>`
    SELECT model, ${priceColumns()}, ${quantityColumns(true)}
    FROM usage_events WHERE consumer_id = ${a.consumerId}::uuid AND invoice_id = ${invoiceId}::uuid AND occurred_at >= ${startsAt} AND billable
    GROUP BY 1, 2, 3, 4, 5, 6`;
  const lateRows = await tx.$queryRaw<(UsageAtPrice & { id: string; occurredAt: Date; fee: string | null })[]>`
    SELECT id, occurred_at AS "occurredAt", model, request_fee::text AS fee, ${priceColumns()}, ${quantityColumns(false)}
    FROM usage_events WHERE consumer_id = ${a.consumerId}::uuid AND invoice_id = ${invoiceId}::uuid AND occurred_at < ${startsAt} AND billable`;
  const s = a.settings;
  const keys = [...new Set(lateRows.map((r) => periodContaining(r.occurredAt, s.period, s.timeZone).key))];
  const periods = new Map(
    (await tx.billingPeriod.findMany({ where: { kind: s.period, timeZone: s.timeZone, key: { in: keys } } })).map(
      (p) => [p.key, p],
    ),
  );
  const late: Array<LateEvent & { fee: string | null }> = lateRows.map((r) => {
    const p = periods.get(periodContaining(r.occurredAt, s.period, s.timeZone).key)!;
    return { ...r, periodId: p.id, periodStartsAt: p.startsAt };
  });
  const fees = await tx.$queryRaw<Array<{ model: string; fee: string; calls: bigint }>>`
    SELECT model, request_fee::text AS fee, count(*)::bigint AS calls
    FROM usage_events WHERE consumer_id = ${a.consumerId}::uuid AND invoice_id = ${invoiceId}::uuid AND occurred_at >= ${startsAt} AND billable AND request_fee <> 0
    GROUP BY 1, 2`;
  const lateFees = late.filter((e): e is typeof e & { fee: string } => e.fee !== null && !new Decimal(e.fee).isZero());
  return buildLines(current, late, await claimCorrections(tx, invoiceId, a, endsAt), requestFeeLines(fees, lateFees));
}

/** Billable calls on the invoice that no price covers, and their models. */
async function unpricedOn(tx: Tx, invoiceId: string): Promise<{ calls: number; models: string[] }> {
  const rows = await tx.$queryRaw<{ model: string; calls: bigint }[]>`
    SELECT model, count(*)::bigint AS calls FROM usage_events
    WHERE invoice_id = ${invoiceId}::uuid AND billable AND 'unpriced' = ANY(anomalies) GROUP BY model ORDER BY model`;
  return { calls: rows.reduce((n, r) => n + Number(r.calls), 0), models: rows.map((r) => r.model) };
}

export async function draftInvoice(
  db: PrismaClient,
  a: DraftArgs,
): Promise<{ invoiceId: string | null; outcome: DraftOutcome; unpriced?: { calls: number; models: string[] } }> {
  return db.$transaction(
    async (tx) => {
      const period = await tx.billingPeriod.findUniqueOrThrow({ where: { id: a.periodId } });
      const inv = await lockInvoiceOf(tx, a.consumerId, period, a.settings);
      if (inv.status !== "draft") return { invoiceId: inv.id, outcome: "unchanged" as const };

      await claimUnstamped(tx, inv.id, a.consumerId, period);
      await claimLateEvents(tx, inv.id, a, period.startsAt);
      const usage = await linesOf(tx, inv.id, a, period.startsAt, period.endsAt);
      const charges = usage.length > 0 ? await planCharges(tx, a.consumerId, inv.id, period.startsAt, usage) : [];
      // prepaid credit that paid for the invoice's calls comes off last: the total is what is due
      const credits = usage.length > 0 ? await creditLines(tx, inv.id, a.consumerId, period.endsAt) : [];
      const lines = [...usage, ...[...charges, ...credits].map((c, i) => ({ ...c, position: usage.length + i + 1 }))];

      if (lines.length === 0) {
        // no usage after all: no invoice (nothing was claimed either)
        await tx.invoice.delete({ where: { id: inv.id } });
        return { invoiceId: null, outcome: "empty" as const };
      }
      // an invoice with calls nothing priced would bill them at zero: it stays a draft unless the operator says
      // otherwise
      const unpriced = a.finalize && !a.allowUnpriced ? await unpricedOn(tx, inv.id) : { calls: 0, models: [] };
      const finalize = a.finalize && unpriced.calls === 0;
      const subtotal = subtotalOf(lines);
      const total = roundToMinorUnit(subtotal, a.settings.currency, a.settings.rounding).toFixed();
      await tx.invoiceLine.deleteMany({ where: { invoiceId: inv.id } });
      await tx.invoiceLine.createMany({
        data: lines.map((l) => ({
          ...l,
          invoiceId: inv.id,
          unitPrice: l.unitPrice.toFixed(),
          amount: l.amount.toFixed(),
        })),
      });
      await tx.invoice.update({
        where: { id: inv.id },
        data: {
          currency: a.settings.currency,
          rounding: a.settings.rounding,
          subtotal: subtotal.toFixed(),
          total,
          ...(finalize ? { status: "finalized", issuedAt: a.now, ...(await issueInvoiceNumber(tx, a.settings)) } : {}),
        },
      });
      const announce = (type: InvoiceAlert, data: Record<string, unknown>) =>
        addToOutbox(tx, [
          {
            type,
            dedupKey: `${type}:${inv.id}`,
            consumerId: a.consumerId,
            data: { invoice_id: inv.id, consumer_id: a.consumerId, period: periodJson(period), ...data },
          },
        ]);
      if (finalize) {
        await recordStatusChange(tx, inv.id, {
          from: "draft",
          to: "finalized",
          actor: a.actor ?? "billing run",
          reason: a.reason,
        });
        await announce("invoice.finalized", { currency: a.settings.currency, total, lines: lines.length });
      }
      // once per invoice (the dedup key): later re-drafts of the same draft do not announce it again
      if (!a.finalize && period.status === "closed")
        await announce("invoice.drafted", {
          currency: a.settings.currency,
          total,
          finalizes_at: period.finalizeAfter.toISOString(),
        });
      const held = a.finalize && !finalize;
      // the run leaves the invoice a draft and says so once; the operator prices the calls and finalizes it by hand
      if (held) await announce("invoice.unpriced_calls", { unpriced_calls: unpriced.calls, models: unpriced.models });
      await a.beforeCommit?.();
      if (held) return { invoiceId: inv.id, outcome: "held_unpriced" as const, unpriced };
      return { invoiceId: inv.id, outcome: finalize ? ("finalized" as const) : ("drafted" as const) };
    },
    { timeout: 60_000 },
  );
}

/** Re-drafts every invoice of a period with the late events of its grace window, then finalizes. */
export async function finalizePeriod(
  db: PrismaClient,
  periodId: string,
  consumerIds: string[],
  settings: BillingSettings,
  now: Date,
  onProgress?: (done: number, total: number) => Promise<void>,
  onUnpriced?: (consumerId: string, unpriced: { calls: number; models: string[] }) => void,
): Promise<number> {
  let finalized = 0;
  for (const [i, consumerId] of consumerIds.entries()) {
    const r = await draftInvoice(db, { consumerId, periodId, settings, now, finalize: true });
    if (r.outcome === "finalized") finalized++;
    // held as a draft: an operator prices its calls (they reprice) and finalizes it by hand
    if (r.outcome === "held_unpriced") onUnpriced?.(consumerId, r.unpriced!);
    await onProgress?.(i + 1, consumerIds.length);
  }
  await db.billingPeriod.update({ where: { id: periodId }, data: { status: "finalized", finalizedAt: now } });
  return finalized;
}
