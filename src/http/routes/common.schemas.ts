// Request parts several route groups share: how a path names a consumer or a record, the local
// day of a TDL matrix, and who is making a change.
import type { FastifyRequest } from "fastify";
import { z } from "zod";
import type { Actor } from "../../consumers/metadata.ts";
import { validationFailed } from "../../domain/errors.ts";
import { calendarDate, consumerRef, instant, safeText, uuid } from "../../domain/field-types.ts";
import { localSlotOf } from "../../domain/tdl.ts";

export const ConsumerParams = z.object({ consumer: consumerRef });

/** A price change sent as a correction of invoiced usage (rates and book prices alike). */
export const correctionField = (description: string) =>
  z
    .object({
      reason: safeText(500, 1).meta({ description: "Why the invoiced prices were wrong; kept with the adjustment." }),
    })
    .strict()
    .optional()
    .meta({ description });
export const IdParams = z.object({ id: uuid });
export const ConsumerIdParams = z.object({ consumer: consumerRef, id: uuid });

export const DayQuery = z
  .object({
    date: calendarDate.optional().meta({ description: "A local day in the billing time zone; today by default." }),
  })
  .strict();

/** The local day asked for, today in the billing time zone by default. */
export const dayOrToday = (date: string | undefined, timeZone: string) =>
  date ?? localSlotOf(new Date(), timeZone).localDate;

/** Who is making a change, recorded in the consumer's metadata versions. Other headers pass. */
export const ActorHeaders = z.looseObject({
  "x-actor": safeText(200)
    .optional()
    .meta({ description: "Who is making the change (a person or a tool), recorded in the metadata versions." }),
});

/** Who is changing metadata: the name the caller gives in X-Actor, else the credential kind. */
export function actorOf(request: FastifyRequest, source: Actor["source"]): Actor {
  const named = request.headers["x-actor"];
  const name = typeof named === "string" && named.trim() ? named.trim() : undefined;
  return { actor: name ?? request.principal?.kind ?? "unknown", source };
}

const DAY_MS = 86_400_000;

/** A time range [from, to) in a query: the last 30 days by default. */
export const RangeFields = {
  from: instant.optional().meta({ description: "Start (inclusive); 30 days before `to` by default." }),
  to: instant.optional().meta({ description: "End (exclusive); now by default." }),
};

/**
 * [from, to), defaulting to the last 30 days. A range longer than `maxDays` (USAGE_MAX_SPAN_DAYS)
 * is refused: what a read costs grows with the events in its range, so it is bounded.
 */
export function rangeOf(q: { from?: Date; to?: Date }, maxDays: number): { from: Date; to: Date } {
  const to = q.to ?? new Date();
  const from = q.from ?? new Date(to.getTime() - 30 * DAY_MS);
  if (from >= to) throw validationFailed("query.from: must be before to", "query.from");
  if (to.getTime() - from.getTime() > maxDays * DAY_MS) {
    throw validationFailed(
      `query.from: the range may span at most ${maxDays} days (USAGE_MAX_SPAN_DAYS); ask for it in parts`,
      "query.from",
    );
  }
  return { from, to };
}
