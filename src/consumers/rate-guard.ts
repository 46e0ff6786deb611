// A rate may not take effect inside a billing period this consumer was already invoiced for with
// a finalized invoice: it would become the price of that period's late events and contradict what
// was invoiced. Such a rate is refused with 409 and the earliest instant it may take effect from.
import type { Db } from "../db/client.ts";
import { conflict } from "../domain/errors.ts";

export async function refuseRepricingFinalized(
  db: Db,
  consumerId: string,
  effectiveFrom: Date,
  field: string,
): Promise<void> {
  const invoiced = await db.invoice.findFirst({
    where: { consumerId, status: "finalized", period: { endsAt: { gt: effectiveFrom } } },
    include: { period: true },
    orderBy: { period: { endsAt: "desc" } },
  });
  if (!invoiced) return;
  throw conflict(
    `${field}: ${effectiveFrom.toISOString()} falls before the end of billing period ${invoiced.period.key}, whose invoice is finalized; ` +
      `a new rate may take effect from ${invoiced.period.endsAt.toISOString()} on`,
    field,
  );
}
