// How calls were priced is stored once per distinct record (pricing_records) and each call names
// it. The name is the md5 of the record's jsonb text, which PostgreSQL writes canonically (keys in
// a fixed order, fixed spacing), so the meter and repricing agree on it without a lookup.

/** The record id of `jsonb` (an SQL expression of type jsonb; NULL stays NULL). */
export const pricingRecordId = (jsonb: string) => `md5((${jsonb})::text)::uuid`;

/**
 * A statement (for a WITH clause) storing the records among `jsonbArray` (an SQL jsonb[] expression)
 * that are not stored yet. In id order, so two writers storing the same new records never deadlock.
 */
export const storePricingRecords = (jsonbArray: string) => `
  INSERT INTO pricing_records (id, priced_by)
  SELECT DISTINCT ${pricingRecordId("r")}, r FROM unnest(${jsonbArray}) AS r WHERE r IS NOT NULL
  ORDER BY 1
  ON CONFLICT (id) DO NOTHING`;

/** A join that brings a usage event `e`'s pricing record in as `alias`. */
export const joinPricingRecord = (e: string, alias: string) =>
  `LEFT JOIN pricing_records ${alias} ON ${alias}.id = ${e}.priced_by_id`;
