// Tiered, volume and package pricing of one price version over a billing period. Each token type
// is rated by its own quantity in the period. A call is priced at the version's base prices when it
// is metered (usage views show that); the invoice rates the period's quantities and bills the
// difference as a tier adjustment line, so the invoice is authoritative and the difference is seen.
//
//   graduated  tokens above each tier's `above` are priced at that tier's prices (1,000,000 at
//              base then 0.8x: token 1,000,001 onwards at 0.8x)
//   volume     every token at the prices of the tier the whole quantity reaches (above < quantity)
//   package    the quantity rounded UP to whole packages of `package_size` tokens, at base prices
import { markedUp } from "./consumer-pricing.ts";
import { Decimal, ZERO } from "./money.ts";
import { pricesOf, type RatePrices } from "./pricing.ts";
import type { TokenType } from "./token-types.ts";

type Tier = { above: number; prices: RatePrices };
export type Tiering = { mode: "graduated" | "volume"; tiers: Tier[] } | { mode: "package"; packageSize: number };

/** The price of one token of `type` in each tier (base first), after the consumer's markup. */
function unitPrices(
  tiering: Tiering,
  base: RatePrices,
  type: TokenType,
  markup: Decimal | null,
): Array<{ above: bigint; price: Decimal }> {
  const tiers = tiering.mode === "package" ? [] : tiering.tiers;
  return [{ above: 0n, prices: base }, ...tiers.map((t) => ({ above: BigInt(t.above), prices: t.prices }))].map(
    (t) => ({
      above: t.above,
      price: pricesOf(markedUp(t.prices, markup))[type],
    }),
  );
}

/** The period's amount for `quantity` tokens of one type under the tiering. Exact: no rounding. */
export function ratedAmount(
  tiering: Tiering,
  base: RatePrices,
  type: TokenType,
  quantity: bigint,
  markup: Decimal | null,
): Decimal {
  if (quantity <= 0n) return ZERO;
  const tiers = unitPrices(tiering, base, type, markup);
  if (tiering.mode === "package") {
    const size = BigInt(tiering.packageSize);
    const packages = (quantity + size - 1n) / size;
    return tiers[0]!.price.times((packages * size).toString());
  }
  if (tiering.mode === "volume") {
    const reached = tiers.filter((t) => t.above < quantity).at(-1)!;
    return reached.price.times(quantity.toString());
  }
  let amount = ZERO;
  tiers.forEach((t, i) => {
    const upTo = i + 1 < tiers.length ? tiers[i + 1]!.above : quantity;
    const inTier = (quantity < upTo ? quantity : upTo) - t.above;
    if (inTier > 0n) amount = amount.plus(t.price.times(inTier.toString()));
  });
  return amount;
}

/** A stored tiering (JSON) back as the domain type; prices as Decimals. */
export function tieringFromJson(json: unknown): Tiering | null {
  if (!json || typeof json !== "object") return null;
  const j = json as {
    mode: Tiering["mode"];
    package_size?: number;
    tiers?: Array<Record<string, string | null> & { above: number }>;
  };
  if (j.mode === "package") return { mode: "package", packageSize: j.package_size! };
  const d = (v: string | null | undefined) => (v === null || v === undefined ? null : new Decimal(v));
  return {
    mode: j.mode,
    tiers: (j.tiers ?? []).map((t) => ({
      above: t.above,
      prices: {
        inputCostPerToken: new Decimal(t.input_cost_per_token!),
        outputCostPerToken: new Decimal(t.output_cost_per_token!),
        cachedInputCostPerToken: d(t.cached_input_cost_per_token),
        cacheWriteCostPerToken: d(t.cache_write_cost_per_token),
        reasoningCostPerToken: d(t.reasoning_cost_per_token),
      },
    })),
  };
}
