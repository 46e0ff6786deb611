// Which invoice bills a call is decided when the meter stores it. A call of a period that has not
// closed is stamped with the id its consumer's invoice for that period will have: one id per
// consumer and period, computed rather than looked up. Drafting then reads its calls as they are
// instead of claiming each one with an UPDATE.
//
// Closing a period stops the stamping. The meter takes INVOICE_STAMPING_LOCK shared before it reads
// which periods are closed, and holds it until its transaction commits. closeStamping() takes the
// same lock exclusively after the period's row is committed. A meter that read the period as open
// has therefore committed its calls before anyone drafts, and a later meter reads the period as
// closed. Calls stored after that carry no stamp: a re-draft or a later invoice claims them one by
// one, as late calls always were.
import { createHash } from "node:crypto";
import type { Db, PrismaClient } from "../db/client.ts";
import type { Period } from "../domain/billing-period.ts";

/** The advisory lock between the meter's stamping and a period closing (any fixed bigint). */
export const INVOICE_STAMPING_LOCK = 7_468_205_300_001n;

/** The invoice id of a consumer's period: a name-based UUID (version 8, RFC 9562) of both. */
export function periodInvoiceId(consumerId: string, p: Pick<Period, "kind" | "timeZone" | "key">): string {
  const b = createHash("sha256").update(`invoice/${consumerId}/${p.kind}/${p.timeZone}/${p.key}`).digest();
  b[6] = (b[6]! & 0x0f) | 0x80; // version 8
  b[8] = (b[8]! & 0x3f) | 0x80; // variant 10
  const h = b.subarray(0, 16).toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * Waits until no meter that may have read a just-closed period as open is still writing: call it
 * after the period's row is committed and before drafting it. It holds the meters for as long as
 * their transactions in flight take to commit.
 */
export async function closeStamping(db: PrismaClient): Promise<void> {
  await db.$transaction(holdMeters);
}

/** Takes the stamping lock exclusively until `tx` ends: meters in flight finish, new ones wait. */
export async function holdMeters(tx: Db): Promise<void> {
  await tx.$queryRaw`SELECT 1 FROM pg_advisory_xact_lock(${INVOICE_STAMPING_LOCK}::bigint)`;
}
