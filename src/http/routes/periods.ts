// A billing period named by its first local day, as invoices and billing runs take it.
import type { BillingSettings } from "../../billing/period.service.ts";
import type { Db } from "../../db/client.ts";
import { isPeriodKey } from "../../domain/billing-period.ts";
import { notFound, validationFailed } from "../../domain/errors.ts";
import { calendarDate } from "../../domain/field-types.ts";

export const PeriodKey = calendarDate.meta({
  description: "A billing period, by its first local day (2026-11-01 for November in a monthly setup).",
});

/** The closed period the key names; 400 if it starts no period, 404 if it is not closed yet. */
export async function periodOf(db: Db, s: BillingSettings, key: string, field: string) {
  if (!isPeriodKey(key, s.period))
    throw validationFailed(`${field}: ${key} does not start a ${s.period} period`, field);
  const row = await db.billingPeriod.findUnique({
    where: { kind_key_timeZone: { kind: s.period, key, timeZone: s.timeZone } },
  });
  if (!row) throw notFound(`period ${key} has not been closed yet`);
  return row;
}
