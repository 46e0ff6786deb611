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

export type RoundingMode = "half_up" | "half_even";
const MODES: Record<RoundingMode, BaseDecimal.Rounding> = {
  half_up: BaseDecimal.ROUND_HALF_UP,
  half_even: BaseDecimal.ROUND_HALF_EVEN,
};

/** Digits after the decimal point of a currency's minor unit (USD 2, KRW 0, JPY 0, BHD 3). */
export function minorUnitDigits(currency: string): number {
  return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

export function isCurrencyCode(code: string): boolean {
  if (!/^[A-Z]{3}$/.test(code)) return false;
  try {
    new Intl.NumberFormat("en", { style: "currency", currency: code });
    return Intl.supportedValuesOf("currency").includes(code);
  } catch {
    return false;
  }
}

/** Rounds once, at the end, to the currency's minor unit. Nothing else in billing rounds. */
export function roundToMinorUnit(amount: BaseDecimal.Value, currency: string, mode: RoundingMode): Decimal {
  return new Decimal(amount).toDecimalPlaces(minorUnitDigits(currency), MODES[mode]);
}
