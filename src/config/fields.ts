// How one environment variable is read: the parsers the configuration sections share.
import { z } from "zod";

export const intFrom = (min: number, def: number) => z.coerce.number().int().min(min).default(def);

/** A comma-separated list, blanks dropped. */
export const list = z.string().transform((s) =>
  s
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== ""),
);

export const decimalString = z
  .string()
  .refine((s) => /^\d+(\.\d{1,12})?$/.test(s), "must be a non-negative decimal with at most 12 decimal places");

export const timeZone = z.string().refine((tz) => {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}, "must be an IANA time zone such as Asia/Seoul");

export const levelBounds = z
  .string()
  .transform((s) => s.split(",").map((p) => Number(p.trim())))
  .refine(
    (b) => b.length === 9 && b.every((n, i) => Number.isInteger(n) && n > 0 && (i === 0 || n > b[i - 1]!)),
    "must be 9 increasing positive integers separated by commas",
  );

/** Dot paths into a log entry (custom_fields_by_lua names nest the same way: "request.body"). */
export const bodyPaths = list.refine(
  (ps) => ps.every((p) => p.split(".").every((k) => k !== "")),
  "must be dot paths such as request.body, separated by commas",
);

/** Model-name patterns: `*` matches any run of characters; matched whole, case-insensitively. */
export const modelPatterns = list.refine(
  (ps) => ps.every((p) => /^[\w.:/@*-]+$/.test(p)),
  "must be model names or patterns such as claude-*, separated by commas",
);

/** A JSON object of strings, read into a Map: names from logs ("__proto__" too) are only names. */
export const jsonMap = z.string().transform((s, ctx) => {
  try {
    const parsed = z.record(z.string(), z.string()).safeParse(JSON.parse(s) as unknown);
    if (parsed.success) return new Map(Object.entries(parsed.data));
  } catch {
    /* reported below */
  }
  ctx.addIssue({ code: "custom", message: 'must be a JSON object of strings, e.g. {"chat-route":"gpt-4o"}' });
  return z.NEVER;
});

/** A 32-byte key in base64 (openssl rand -base64 32). */
export function base64Key(value: string, ctx: z.RefinementCtx, name: string): Buffer | null {
  const key = Buffer.from(value, "base64");
  if (key.length === 32) return key;
  ctx.addIssue({ code: "custom", message: "must be 32 bytes in base64 (openssl rand -base64 32)", path: [name] });
  return null;
}
