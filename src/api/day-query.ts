// `?date=YYYY-MM-DD`: a local day in the billing time zone, today by default.
import { z } from "zod";
import { localSlotOf } from "../domain/tdl.ts";
import { calendarDate } from "./schemas/common.ts";
import { validate } from "./validate.ts";

const DayQuery = z.object({ date: calendarDate.optional() }).strict();

export function dayOf(query: unknown, timeZone: string): string {
  return validate(DayQuery, query, "query").date ?? localSlotOf(new Date(), timeZone).localDate;
}
