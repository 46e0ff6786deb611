// SQL over usage_events for each token type: the disjoint quantity billed and the unit price it
// was billed at (a type priced as its parent stores the parent's price, or NULL on rows metered
// before the type existed, hence the coalesce).
import { Prisma } from "../db/client.ts";
import { TOKEN_TYPES, type TokenType } from "../domain/token-types.ts";

export const QUANTITY_SQL: Record<TokenType, string> = {
  input: "input_tokens - cached_input_tokens - cache_write_tokens",
  cached_input: "cached_input_tokens",
  cache_write: "cache_write_tokens",
  output: "output_tokens - reasoning_tokens",
  reasoning: "reasoning_tokens",
};

export const PRICE_SQL: Record<TokenType, string> = {
  input: "input_cost_per_token",
  cached_input: "coalesce(cached_input_cost_per_token, input_cost_per_token)",
  cache_write: "coalesce(cache_write_cost_per_token, input_cost_per_token)",
  output: "output_cost_per_token",
  reasoning: "coalesce(reasoning_cost_per_token, output_cost_per_token)",
};

/** Quantity and unit price of every type, as columns q_<type> and p_<type>. */
export type TypedUsage = Record<`q_${TokenType}`, bigint> & Record<`p_${TokenType}`, string | null>;

/** `p_<type>` price columns, for SELECT and GROUP BY (qualified by `alias` when given). */
export function priceColumns(alias = ""): Prisma.Sql {
  const q = (sql: string) => (alias ? sql.replace(/\b(\w+_cost_per_token)\b/g, `${alias}.$1`) : sql);
  return Prisma.raw(TOKEN_TYPES.map((t) => `(${q(PRICE_SQL[t])})::text AS p_${t}`).join(", "));
}

/** `q_<type>` quantity columns: summed over a group, or one event's. */
export function quantityColumns(summed: boolean, alias = ""): Prisma.Sql {
  const q = (sql: string) => (alias ? sql.replace(/\b(\w+_tokens)\b/g, `${alias}.$1`) : sql);
  return Prisma.raw(
    TOKEN_TYPES.map((t) =>
      summed ? `sum(${q(QUANTITY_SQL[t])})::bigint AS q_${t}` : `(${q(QUANTITY_SQL[t])})::bigint AS q_${t}`,
    ).join(", "),
  );
}
