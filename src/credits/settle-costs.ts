// Metered cost against credit, in the transaction that changed it (the meter's chunk, a
// repricing): each call whose consumer draws on credit (its own, or its tag's pool) is settled to
// its cost now (burn.ts), so a
// call is burnt once however often it is reported, and every change of its cost moves the ledger
// by exactly the difference.
import type { Sql } from "../db/sql.ts";
import type { Decimal } from "../domain/money.ts";
import { settleCall } from "./burn.ts";
import { ownerKey } from "../budgets/budget.ts";
import { creditedOf, lockGrants, walletsOf, writeMovements, type OwnedMovement } from "./credit-store.ts";

/** A call whose cost this transaction set: `previousCost` is 0 for a call it inserted. */
export type CallCost = { eventId: string; consumerId: string | null; at: Date; cost: Decimal; previousCost: Decimal };

/**
 * `seenBefore`: calls that may hold credit already (merged into, repriced); a call inserted by
 * this transaction has none, and its earlier credit is not read.
 */
export async function settleCosts(sql: Sql, calls: CallCost[], seenBefore: ReadonlySet<string>): Promise<void> {
  const consumerIds = [...new Set(calls.flatMap((c) => (c.consumerId ? [c.consumerId] : [])))];
  if (consumerIds.length === 0) return;
  const wallets = await walletsOf(sql, consumerIds);
  if (wallets.size === 0) return;
  const owners = [...new Map([...wallets.values()].map((o) => [ownerKey(o), o])).values()];
  const locked = await lockGrants(sql, owners);
  const theirs = calls
    .filter((c) => c.consumerId && wallets.has(c.consumerId))
    .sort((a, b) => a.at.getTime() - b.at.getTime() || (a.eventId < b.eventId ? -1 : 1));
  const credited = await creditedOf(
    sql,
    theirs.filter((c) => seenBefore.has(c.eventId)).map((c) => c.eventId),
  );
  const movements: OwnedMovement[] = [...locked.movements];
  for (const c of theirs) {
    const grants = locked.byOwner.get(ownerKey(wallets.get(c.consumerId!)!)) ?? [];
    const settled = settleCall(
      grants,
      {
        eventId: c.eventId,
        at: c.at,
        cost: c.cost,
        previousCost: c.previousCost,
        credited: credited.get(c.eventId) ?? new Map(),
      },
      locked.now,
    );
    movements.push(...settled.map((m) => ({ ...m, consumerId: c.consumerId! })));
  }
  await writeMovements(sql, locked, movements);
}
