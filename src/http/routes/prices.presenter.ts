// The API shape of price books and their price versions. Prices are decimal strings, never floats.
import { rateFromRow } from "../../consumers/consumer.repository.ts";
import { presentRate } from "./consumers.presenter.ts";

type PriceRow = Parameters<typeof rateFromRow>[0] & { model: string; tiering: unknown };
type Amount = { toFixed(): string } | null;
export const presentPrice = (p: PriceRow) => {
  const rate = rateFromRow(p);
  return {
    model: p.model,
    ...presentRate(rate),
    request_fee: rate.requestFee?.toFixed() ?? null,
    tiering: p.tiering ?? null,
  };
};
export const presentBook = (b: {
  id: string;
  name: string;
  description: string | null;
  version: number;
  feePerPeriod: Amount;
  minimumPerPeriod: Amount;
  prices?: PriceRow[];
}) => ({
  id: b.id,
  name: b.name,
  description: b.description,
  version: b.version,
  fee_per_period: b.feePerPeriod?.toFixed() ?? null,
  minimum_per_period: b.minimumPerPeriod?.toFixed() ?? null,
  ...(b.prices ? { prices: b.prices.map(presentPrice) } : {}),
});
