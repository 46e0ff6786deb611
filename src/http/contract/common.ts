// Shapes shared by the API's answers. The contract imports nothing but zod and pure domain
// constants, so the dashboard can import its types (and TOKEN_TYPES) without the server.
import { z } from "zod";
import { LIMIT_FLAGS, type LimitFlag } from "../../domain/limits.ts";
import { TOKEN_TYPES, type TokenType } from "../../domain/token-types.ts";

/** An exact decimal (a price, an amount, a balance); never a float. */
export const Money = z.string().regex(/^-?\d+(\.\d+)?$/);
/** An instant in UTC, ISO 8601. */
export const Instant = z.iso.datetime();
/** A local calendar day, YYYY-MM-DD. */
export const LocalDate = z.iso.date();

const byTokenType = <T extends z.ZodType>(item: T) =>
  z.object(Object.fromEntries(TOKEN_TYPES.map((t) => [t, item])) as Record<TokenType, T>);
const byLimitFlag = <T extends z.ZodType>(item: T) =>
  z.object(Object.fromEntries(LIMIT_FLAGS.map((f) => [f, item])) as Record<LimitFlag, T>);

/** A billing period or a budget's period: its kind, first local day and bounds. */
export const Period = z.object({
  kind: z.string(),
  key: LocalDate,
  time_zone: z.string(),
  starts_at: Instant,
  ends_at: Instant,
});

/** A TDL matrix: calls per two-hour slot (T1…T12), one count per load level. */
export const TdlMatrix = z.record(z.string(), z.array(z.number()));

/** Billed tokens and cost of a set of calls, by token type; `calls` and `limit_flags` count every call. */
export const UsageTotals = z.object({
  calls: z.number(),
  billable_calls: z.number(),
  input_tokens: z.number(),
  output_tokens: z.number(),
  cost: Money,
  by_token_type: byTokenType(z.object({ tokens: z.number(), cost: Money })),
  limit_flags: byLimitFlag(z.number()),
});
export type UsageTotals = z.infer<typeof UsageTotals>;

export const TokenQuantities = byTokenType(z.number());

export const Empty = z.undefined();
