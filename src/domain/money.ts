// Money and per-token prices are decimals end to end. A private Decimal class with 40 significant
// digits keeps sums of 12-decimal amounts exact far beyond any realistic total (decimal.js's
// default of 20 would round a total above 10^8 in its last places).
import { Decimal as BaseDecimal } from "decimal.js";

export const Decimal = BaseDecimal.clone({ precision: 40, rounding: BaseDecimal.ROUND_HALF_EVEN });
export type Decimal = BaseDecimal;

export const ZERO = new Decimal(0);

/** Per-token prices carry at most 12 decimal places (the database column's scale). */
export const PRICE_SCALE = 12;

/**
 * Reads a price given as a JSON number or a decimal string. A number is taken by its shortest
 * decimal spelling (0.000000083 stays 0.000000083), never by its binary value.
 */
export function parsePrice(value: unknown): Decimal | { error: string } {
  const text = typeof value === "number" ? String(value) : typeof value === "string" ? value.trim() : null;
  if (text === null || text === "") return { error: "must be a decimal number or a decimal string" };
  let d: Decimal;
  try {
    d = new Decimal(text);
  } catch {
    return { error: "must be a decimal number or a decimal string" };
  }
  if (!d.isFinite() || d.isNegative()) return { error: "must be zero or positive" };
  if (d.decimalPlaces() > PRICE_SCALE) return { error: `must have at most ${PRICE_SCALE} decimal places` };
  return d;
}

/** Decimal as a plain string without exponent, for JSON answers. */
export function toPlain(d: { toFixed(): string }): string {
  return d.toFixed();
}
