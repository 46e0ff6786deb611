// Field types that cannot hold nonsense, shared by the API's route schemas and the import: dates
// that exist (1970-01-01 to 9999-12-31), instants in that range, text that may end up in an HTTP
// header or a unique index (no control characters, bounded), counts a column can hold, and
// per-token prices. Each carries its own OpenAPI description.
import { z } from "zod";
import { Decimal, parsePrice, PRICE_INTEGER_DIGITS, PRICE_SCALE } from "./money.ts";
import { LEVELS, parseMatrix, SLOT_NAMES, type TdlMatrix } from "./tdl.ts";

const YEAR_MIN = 1970;
const YEAR_MAX = 9999;
const INT4_MAX = 2_147_483_647;

const inRange = (d: Date) =>
  !Number.isNaN(d.getTime()) && d.getUTCFullYear() >= YEAR_MIN && d.getUTCFullYear() <= YEAR_MAX;

/** YYYY-MM-DD, a day that exists, 1970 to 9999. */
export const calendarDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date YYYY-MM-DD")
  .refine((s) => {
    const d = new Date(`${s}T00:00:00Z`);
    return inRange(d) && d.toISOString().slice(0, 10) === s;
  }, `must be a calendar date from ${YEAR_MIN}-01-01 to ${YEAR_MAX}-12-31`)
  .meta({
    format: "date",
    description: `A calendar day, ${YEAR_MIN}-01-01 to ${YEAR_MAX}-12-31.`,
    examples: ["2026-11-01"],
  });

/** An ISO 8601 date-time with its offset, 1970 to 9999. */
export const instantString = z
  .string()
  .datetime({ offset: true, message: "must be an ISO 8601 date-time with offset, e.g. 2026-11-01T00:00:00Z" })
  .refine((s) => inRange(new Date(s)), `must be between ${YEAR_MIN} and ${YEAR_MAX}`)
  .meta({
    description: `An ISO 8601 date-time with offset, years ${YEAR_MIN} to ${YEAR_MAX}.`,
    examples: ["2026-11-01T00:00:00Z"],
  });
export const instant = instantString.transform((s) => new Date(s));

const CONTROL = /[\u0000-\u001f\u007f]/;

/** Text that may be sent on as an HTTP header value or kept in a unique index. */
export const safeText = (max: number, min = 0) =>
  z
    .string()
    .min(min)
    .max(max)
    .refine((s) => !CONTROL.test(s), "must not contain control characters (NUL, CR, LF, ...)")
    .meta({ pattern: "^[^\\u0000-\\u001f\\u007f]*$" });

/** How a path names a consumer: its tokenmeter id, its Kong id or its username. */
export const consumerRef = safeText(200, 1).meta({
  description: "The consumer's tokenmeter id, Kong consumer id or username.",
});

export const uuid = z.uuid({ message: "must be a UUID" });
/** Whether a path's reference is an id (a UUID) rather than a name. */
export const isUuid = (ref: string): boolean =>
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(ref);

/** A token limit or count a 32-bit column holds. */
export const tokenLimit = z.number().int().positive().max(INT4_MAX, `must be at most ${INT4_MAX}`);

/** A page size: `limit` in a query string. */
export const pageLimit = (max: number, def: number) =>
  z.coerce.number({ message: "must be a whole number" }).int("must be a whole number").min(1).max(max).default(def);

/** `true` or `false` in a query string. */
export const queryFlag = z.enum(["true", "false"]).transform((s) => s === "true");

const PRICE_PATTERN = `^\\d{1,${PRICE_INTEGER_DIGITS}}(\\.\\d{1,${PRICE_SCALE}})?$`;

/**
 * A per-token price, checked by parsePrice (src/domain/money.ts), which sees JSON numbers as
 * they were written (src/http/json-body.ts). The handler receives an exact Decimal.
 */
export const price = z
  .custom<unknown>((v) => v !== undefined && v !== null, "is required")
  .transform((v, ctx): Decimal => {
    const p = parsePrice(v);
    if (!("error" in p)) return p;
    ctx.addIssue({ code: "custom", message: p.error });
    return z.NEVER;
  })
  .meta({
    description:
      `A per-token price: a decimal string (preferred) or a JSON number written in plain decimal notation; ` +
      `zero or more, at most ${PRICE_INTEGER_DIGITS} digits before the point and ${PRICE_SCALE} after. ` +
      `No sign, exponent, hex or binary forms; a JSON number a double cannot carry exactly is refused (send a string).`,
    oneOf: [
      { type: "string", pattern: PRICE_PATTERN },
      { type: "number", minimum: 0 },
    ],
    examples: ["0.000000083"],
  });

/** The TDL matrix a consumer is allowed: slots T1..T12, each 10 non-negative counts (absent slots are zeros). */
export const tdlMatrix = z
  .unknown()
  .transform((v, ctx): TdlMatrix => {
    const m = parseMatrix(v);
    if (typeof m.error !== "string") return m as TdlMatrix;
    const bad = m as { error: string; path: string };
    ctx.addIssue({ code: "custom", message: bad.error, path: bad.path ? [bad.path] : [] });
    return z.NEVER;
  })
  .meta({
    description: "Calls allowed per two-hour slot (T1 = 00:00-02:00 local time ... T12) and load level (10 levels).",
    type: "object",
    propertyNames: { enum: SLOT_NAMES },
    additionalProperties: { type: "array", items: { type: "integer", minimum: 0 }, minItems: LEVELS, maxItems: LEVELS },
  });

/** Markup in percent: -100 < m <= 1000 (negative: a discount), at most 4 decimal places. */
export const markupPercent = z
  .union([z.string(), z.number()])
  .transform((v, ctx): Decimal => {
    const text = String(v).trim();
    if (/^-?\d{1,4}(\.\d{1,4})?$/.test(text)) {
      const d = new Decimal(text);
      if (d.gt(-100) && d.lte(1000)) return d;
    }
    ctx.addIssue({
      code: "custom",
      message: 'must be a percentage above -100 and at most 1000, with at most 4 decimal places (e.g. "7.5" or "-10")',
    });
    return z.NEVER;
  })
  .meta({ description: "Added to every plan price, in percent; negative for a discount.", examples: ["7.5", "-10"] });
