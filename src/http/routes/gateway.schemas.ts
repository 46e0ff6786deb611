// Requests of the gateway-facing routes: Kong's authorize call and the consumer headers Kong adds.
import { z } from "zod";
import { safeText } from "../../domain/field-types.ts";

const name = safeText(200, 1);
/** Kong's three service timeouts at their largest (2^31 - 1 ms each). */
const MAX_TIMEOUT_MS = 3 * (2 ** 31 - 1);

/** What Kong adds upstream for the consumer it authenticated; believed only with the gateway secret. */
export const KongConsumerHeaders = z.looseObject({
  "x-consumer-id": safeText(200).optional(),
  "x-consumer-username": safeText(200).optional(),
  "x-consumer-custom-id": safeText(200).optional(),
});

export const AuthorizeBodySchema = z
  .object({
    consumer: z
      .object({ id: name.optional(), username: name.optional(), custom_id: name.optional() })
      .strict()
      .refine((c) => c.id || c.username || c.custom_id, "one of id, username or custom_id is required"),
    route: z.object({ id: name.optional(), name: name.optional() }).strict().optional(),
    model: name.optional(),
    /**
     * The client's request body as Kong read it (raw text), or parsed JSON; null: Kong could not read it (buffered to
     * disk).
     */
    body: z.union([z.string(), z.record(z.string(), z.unknown()), z.null()]).optional(),
    /** Kong's request id: a budget hold is settled by the metered log that carries it. */
    request_id: safeText(200).optional(),
    /** The longest Kong lets the call run (its service's connect, write and read timeouts together). */
    timeout_ms: z.number().int().min(1).max(MAX_TIMEOUT_MS).optional(),
  })
  .strict();
