// Field types shared by the API's schemas, so no route can take nonsense through them: dates that
// exist (1970-01-01 to 9999-12-31), instants in that range, text that may end up in an HTTP
// header or a unique index (no control characters, bounded), and counts a column can hold.
import { z } from "zod";

const YEAR_MIN = 1970;
const YEAR_MAX = 9999;
const INT4_MAX = 2_147_483_647;

const inRange = (d: Date) => !Number.isNaN(d.getTime()) && d.getUTCFullYear() >= YEAR_MIN && d.getUTCFullYear() <= YEAR_MAX;

/** YYYY-MM-DD, a day that exists, 1970 to 9999. */
export const calendarDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date YYYY-MM-DD")
  .refine((s) => {
    const d = new Date(`${s}T00:00:00Z`);
    return inRange(d) && d.toISOString().slice(0, 10) === s;
  }, `must be a calendar date from ${YEAR_MIN}-01-01 to ${YEAR_MAX}-12-31`);

/** An ISO 8601 date-time with its offset, 1970 to 9999. */
export const instantString = z
  .string()
  .datetime({ offset: true, message: "must be an ISO 8601 date-time with offset, e.g. 2026-11-01T00:00:00Z" })
  .refine((s) => inRange(new Date(s)), `must be between ${YEAR_MIN} and ${YEAR_MAX}`);
export const instant = instantString.transform((s) => new Date(s));

/** Text that may be sent on as an HTTP header value or kept in a unique index. */
export const safeText = (max: number, min = 0) =>
  z
    .string()
    .min(min)
    .max(max)
    .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), "must not contain control characters (NUL, CR, LF, ...)");

/** A token limit or count a 32-bit column holds. */
export const tokenLimit = z.number().int().positive().max(INT4_MAX, `must be at most ${INT4_MAX}`);
