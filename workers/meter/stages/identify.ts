// Kong consumer -> tokenmeter consumer id. Identity comes only from the call record's owner (what
// Kong authenticated, see src/calls/), never from request headers a client could have sent itself.
// A consumer Kong knows but tokenmeter does not is registered, unconfigured, billed by the default
// plan and prices when configured (and otherwise unpriced, never free).
// A registration PostgreSQL refuses fails only that consumer's events (see isolate.ts).
import type { Db } from "../../../src/db/client.ts";
import { classifyDbError, TransientFailure } from "../../../src/db/errors.ts";
import {
  findByKongRefs,
  registerUnconfigured,
  type RegistrationPricing,
} from "../../../src/consumers/consumer.repository.ts";
import type { KongConsumerRef } from "../../../src/domain/kong-log.ts";

const refKey = (r: KongConsumerRef) => `${r.kongId ?? ""}|${r.username ?? ""}|${r.customId ?? ""}`;

/** A log's consumer: its id, null when the log names none, or why it could not be registered. */
export type Identity = { consumerId: string | null } | { failed: string };

/** Resolves every distinct Kong consumer of a batch at once; returns a lookup from consumer reference to identity. */
/** How consumers first seen are priced; the plan is looked up only when one is registered. */
export type RegistrationDefaults = { prices: RegistrationPricing["prices"]; planId: () => Promise<string | null> };

export async function identify(
  db: Db,
  batchRefs: Array<KongConsumerRef | undefined>,
  defaults: RegistrationDefaults,
): Promise<(ref: KongConsumerRef | undefined) => Identity> {
  const refs = new Map<string, KongConsumerRef>();
  for (const ref of batchRefs) if (ref) refs.set(refKey(ref), ref);
  const resolved = new Map<string, Identity>();
  const known = await findByKongRefs(db, [...refs.values()]);
  for (const [key, ref] of refs) {
    const match = known(ref);
    if (match) resolved.set(key, { consumerId: match });
    else resolved.set(key, await register(db, ref, defaults));
  }
  return (ref) => (ref ? resolved.get(refKey(ref))! : { consumerId: null });
}

async function register(db: Db, ref: KongConsumerRef, defaults: RegistrationDefaults): Promise<Identity> {
  try {
    return {
      consumerId: await registerUnconfigured(db, ref, { prices: defaults.prices, planId: await defaults.planId() }),
    };
  } catch (err) {
    const failure = classifyDbError(err);
    if (failure.kind === "transient") throw new TransientFailure(failure, err);
    return { failed: `registering the consumer failed: ${failure.message}` };
  }
}
