// Money and per-token prices are decimals end to end. A private Decimal class with 40 significant
// digits keeps sums of 12-decimal amounts exact far beyond any realistic total (decimal.js's
// default of 20 would round a total above 10^8 in its last places).
import { Decimal as BaseDecimal } from "decimal.js";

export const Decimal = BaseDecimal.clone({ precision: 40, rounding: BaseDecimal.ROUND_HALF_EVEN });
export type Decimal = BaseDecimal;

export const ZERO = new Decimal(0);

/** Per-token prices carry at most 12 decimal places and 12 digits before the point (numeric(24,12)). */
export const PRICE_SCALE = 12;
export const PRICE_INTEGER_DIGITS = 12;

const PLAIN_DECIMAL = /^\d+(\.\d+)?$/;

/** A JSON number as it was written in a request (see src/http/json-body.ts). */
type Literal = { readonly text: string };
const isLiteral = (v: unknown): v is Literal =>
  typeof v === "object" && v !== null && typeof (v as Literal).text === "string";

/**
 * Reads a per-token price: a decimal string, or a JSON number written in plain decimal notation.
 * Refused: signs, exponents, hex or binary forms, more than 12 decimal places or 12 integer digits,
 * and a JSON number whose digits a double cannot carry (the client may already have rounded it).
 * A number that is not a literal (from a YAML file) is taken by its shortest decimal spelling.
 */
export function parsePrice(value: unknown): Decimal | { error: string } {
  let text: string;
  if (isLiteral(value)) {
    if (!PLAIN_DECIMAL.test(value.text))
      return { error: `must be written in plain decimal notation (e.g. 0.000000083), not ${value.text}` };
    if (!new Decimal(String(Number(value.text))).equals(new Decimal(value.text))) {
      return {
        error: `a JSON number cannot carry ${value.text} exactly; send the price as a string ("${value.text}")`,
      };
    }
    text = value.text;
  } else if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0) return { error: "must be zero or positive" };
    text = new Decimal(value).toFixed();
  } else if (typeof value === "string") {
    text = value.trim();
    if (!PLAIN_DECIMAL.test(text))
      return { error: 'must be a plain decimal string such as "0.000000083" (no sign, exponent, hex or binary forms)' };
  } else {
    return { error: "must be a decimal string or a JSON number" };
  }
  const d = new Decimal(text);
  if (d.decimalPlaces() > PRICE_SCALE) return { error: `must have at most ${PRICE_SCALE} decimal places` };
  if (d.greaterThanOrEqualTo(new Decimal(10).pow(PRICE_INTEGER_DIGITS)))
    return {
      error: `must be less than 10^${PRICE_INTEGER_DIGITS} (at most ${PRICE_INTEGER_DIGITS} digits before the point)`,
    };
  return d;
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
