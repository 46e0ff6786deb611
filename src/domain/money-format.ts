// Money as people read it, on the dashboard and on invoice documents alike. Intl.NumberFormat
// formats the API's exact decimal string as a decimal (never through a float): amounts in the
// currency's minor unit, unit prices and the exact sums behind a rounded total at full precision.
// Imports nothing, so the dashboard can bundle it.
type Precision = "minor" | "exact";

const formatters = new Map<string, Intl.NumberFormat>();

function formatter(currency: string, precision: Precision): Intl.NumberFormat {
  const key = `${currency} ${precision}`;
  let f = formatters.get(key);
  if (!f) {
    const minor = new Intl.NumberFormat("en-US", { style: "currency", currency }).resolvedOptions()
      .maximumFractionDigits!;
    f = new Intl.NumberFormat("en-US", {
      style: "currency",
      currency,
      minimumFractionDigits: minor,
      maximumFractionDigits: precision === "minor" ? minor : 20,
      // an amount that rounds to zero reads as zero, not as "-$0.00"
      signDisplay: "negative",
    });
    formatters.set(key, f);
  }
  return f;
}

const asDecimal = (amount: string) => amount as Intl.StringNumericLiteral;

/** An amount in the currency's minor unit: "$250.00", "₩12,346". Null reads as a dash. */
export function formatMoney(amount: string | null | undefined, currency: string): string {
  if (amount === null || amount === undefined) return "—";
  return formatter(currency, "minor").format(asDecimal(amount));
}

/** Every digit the amount has, at least the minor unit's: unit prices, an invoice's exact subtotal. */
export function formatExactMoney(amount: string | null | undefined, currency: string): string {
  if (amount === null || amount === undefined) return "—";
  return formatter(currency, "exact").format(asDecimal(amount));
}
