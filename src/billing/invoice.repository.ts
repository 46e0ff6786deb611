// Invoice rows as the API shows them and as billing runs and hand changes lock them: one place
// for what an invoice includes, how it is found, and how its status history is written.
import type { Db, Prisma } from "../db/client.ts";
import type { Period } from "../domain/billing-period.ts";
import { periodInvoiceId } from "./period-invoices.ts";

const INVOICE_INCLUDE = {
  lines: {
    orderBy: { position: "asc" as const },
    include: { priceAdjustment: { select: { reason: true, kind: true } } },
  },
  period: true,
  consumer: { select: { username: true } },
  history: { orderBy: { changedAt: "asc" as const } },
} satisfies Prisma.InvoiceInclude;

export type InvoiceWithLines = Prisma.InvoiceGetPayload<{ include: typeof INVOICE_INCLUDE }>;
export type InvoiceStatus = "draft" | "finalized" | "void";

export async function findInvoice(db: Db, id: string): Promise<InvoiceWithLines | null> {
  return db.invoice.findUnique({ where: { id }, include: INVOICE_INCLUDE });
}

export async function listInvoices(
  db: Db,
  where: { consumerId?: string; periodId?: string; status?: InvoiceStatus },
  limit: number,
) {
  return db.invoice.findMany({
    where,
    include: INVOICE_INCLUDE,
    orderBy: [{ createdAt: "desc" }, { id: "asc" }],
    take: limit,
  });
}

export async function invoiceCountsByStatus(db: Db, periodId?: string): Promise<Record<string, number>> {
  const rows = await db.invoice.groupBy({ by: ["status"], where: { periodId }, _count: { _all: true } });
  return Object.fromEntries(rows.map((r) => [r.status, r._count._all]));
}

/**
 * The (consumer, period) invoice, created empty if missing with the id the meter stamped its calls
 * with (src/billing/period-invoices.ts), locked for the rest of the transaction.
 */
export async function lockInvoiceOf(
  tx: Db,
  consumerId: string,
  period: Pick<Period, "kind" | "timeZone" | "key"> & { id: string },
  fresh: { currency: string; rounding: string },
) {
  await tx.invoice.createMany({
    data: [
      {
        id: periodInvoiceId(consumerId, period),
        consumerId,
        periodId: period.id,
        currency: fresh.currency,
        subtotal: "0",
        total: "0",
        rounding: fresh.rounding,
      },
    ],
    skipDuplicates: true,
  });
  const [inv] = await tx.$queryRaw<{ id: string; status: InvoiceStatus }[]>`
    SELECT id::text, status::text FROM invoices
    WHERE consumer_id = ${consumerId}::uuid AND period_id = ${period.id}::uuid FOR UPDATE`;
  return inv!;
}

/** An invoice by id, locked for the rest of the transaction; null if there is none. */
export async function lockInvoice(tx: Db, id: string) {
  const [inv] = await tx.$queryRaw<{ id: string; status: InvoiceStatus; consumer_id: string; period_id: string }[]>`
    SELECT id::text, status::text, consumer_id::text, period_id::text FROM invoices WHERE id = ${id}::uuid FOR UPDATE`;
  return inv ?? null;
}

export async function recordStatusChange(
  tx: Db,
  invoiceId: string,
  change: { from: InvoiceStatus | null; to: InvoiceStatus; actor: string; reason?: string },
): Promise<void> {
  await tx.invoiceStatusChange.create({
    data: { invoiceId, fromStatus: change.from, toStatus: change.to, actor: change.actor, reason: change.reason },
  });
}
