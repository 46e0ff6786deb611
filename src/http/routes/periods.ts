// A billing period named by its first local day, as invoices and billing runs take it.
import { calendarDate } from "../../domain/field-types.ts";

export const PeriodKey = calendarDate.meta({
  description: "A billing period, by its first local day (2026-11-01 for November in a monthly setup).",
});
