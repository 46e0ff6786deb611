// Request bodies of the gateway-facing routes.
import { z } from "zod";

const name = z.string().min(1).max(200);

export const AuthorizeBodySchema = z
  .object({
    consumer: z
      .object({ id: name.optional(), username: name.optional(), custom_id: name.optional() })
      .strict()
      .refine((c) => c.id || c.username || c.custom_id, "one of id, username or custom_id is required"),
    route: z.object({ id: name.optional(), name: name.optional() }).strict().optional(),
    model: name.optional(),
    /** The client's request body as Kong read it (raw text), or parsed JSON. */
    body: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
    /** Kong's request id, for the caller's logs. */
    request_id: z.string().max(200).optional(),
  })
  .strict();
