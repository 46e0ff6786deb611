// What many calls share is stored once and each call names it: how it was priced
// (pricing_records) and the route and service it went through (call_routes). A record's name is
// the md5 of its jsonb text, which PostgreSQL writes canonically (keys in a fixed order, fixed
// spacing), so the meter and repricing name a record the same way without a lookup, and store it
// in the same statement as the calls that name it. Records are few and never deleted.

const md5Uuid = (jsonb: string) => `md5((${jsonb})::text)::uuid`;

/** The pricing record id of `jsonb` (an SQL jsonb expression; NULL stays NULL). */
export const pricingRecordId = (jsonb: string) => md5Uuid(jsonb);

/**
 * A statement (for a WITH clause) storing the pricing records among `jsonbArray` (an SQL jsonb[]
 * expression) not stored yet. In id order, so two writers storing the same new records never deadlock.
 */
export const storePricingRecords = (jsonbArray: string) => `
  INSERT INTO pricing_records (id, priced_by)
  SELECT DISTINCT ${pricingRecordId("r")}, r FROM unnest(${jsonbArray}) AS r WHERE r IS NOT NULL
  ORDER BY 1
  ON CONFLICT (id) DO NOTHING`;

/** A join that brings a usage event `e`'s pricing record in as `alias`. */
export const joinPricingRecord = (e: string, alias: string) =>
  `LEFT JOIN pricing_records ${alias} ON ${alias}.id = ${e}.priced_by_id`;

/** A call route's fields, in the order its id hashes them. */
const ROUTE_FIELDS = ["route_id", "route_name", "service_id", "service_name"] as const;

/** The call route id of the four fields qualified by `t` (NULL when the call has none of them). */
export const callRouteId = (t: string) => {
  const fields = ROUTE_FIELDS.map((f) => `${t}.${f}`).join(", ");
  return `CASE WHEN coalesce(${fields}) IS NOT NULL THEN ${md5Uuid(`jsonb_build_array(${fields})`)} END`;
};

/** A statement (for a WITH clause) storing the routes of four SQL text[] expressions not stored yet, in id order. */
export const storeCallRoutes = (arrays: [string, string, string, string]) => `
  INSERT INTO call_routes (id, ${ROUTE_FIELDS.join(", ")})
  SELECT DISTINCT ${callRouteId("r")}, ${ROUTE_FIELDS.map((f) => `r.${f}`).join(", ")}
  FROM unnest(${arrays.join(", ")}) AS r(${ROUTE_FIELDS.join(", ")})
  WHERE coalesce(${ROUTE_FIELDS.map((f) => `r.${f}`).join(", ")}) IS NOT NULL
  ORDER BY 1
  ON CONFLICT (id) DO NOTHING`;

/** A usage event `e`'s route fields, from its call route `alias` (for a select list). */
export const routeFieldsOf = (alias: string) => ROUTE_FIELDS.map((f) => `${alias}.${f}`).join(", ");

/** A join that brings a usage event `e`'s call route in as `alias`. */
export const joinCallRoute = (e: string, alias: string) =>
  `LEFT JOIN call_routes ${alias} ON ${alias}.id = ${e}.call_route_id`;
