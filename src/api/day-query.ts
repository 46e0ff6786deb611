// `?date=YYYY-MM-DD`: a local day in the billing time zone, today by default.
import { z } from "zod";
import { validationFailed } from "../domain/errors.ts";
import { localSlotOf } from "../domain/tdl.ts";
import { validate } from "./validate.ts";

const DayQuery = z.object({ date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date YYYY-MM-DD").optional() }).strict();

export function dayOf(query: unknown, timeZone: string): string {
  const q = validate(DayQuery, query, "query");
  const date = q.date ?? localSlotOf(new Date(), timeZone).localDate;
  const parsed = new Date(`${date}T00:00:00Z`);
  if (Number.isNaN(parsed.getTime()) || parsed.toISOString().slice(0, 10) !== date) {
    throw validationFailed("query.date: not a calendar date", "query.date");
  }
  return date;
}
