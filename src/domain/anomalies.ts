// What the meter notices about a call's figures and records on its event, beside the figures.

export const ANOMALIES = [
  /** The provider reported a token count no call can have; it was neither billed nor stored. */
  "provider_count_implausible",
  /** Counting the logged payload ran past METER_COUNT_BUDGET_MS; the provider's figure was used. */
  "token_count_over_budget",
  /** The logged request body is not a complete request of a known format (cut off, a placeholder): not counted. */
  "request_payload_incomplete",
  /**
   * The logged response body is not a complete response of a known format (a stream cut short, a placeholder): not
   * counted.
   */
  "response_payload_incomplete",
  /** A billable LLM call for which no source gave any token count: billed as zero tokens, listed for review. */
  "no_token_count",
  /**
   * Our count saw only part of what the provider bills (images, audio, files, Kong's stream record) and no one else
   * reported that side: billed from our count plus the parts' published estimate.
   */
  "billed_from_lower_bound",
  /**
   * The provider (or Kong) reported fewer tokens than our count saw, though our count was only a lower bound: their
   * figure billed, listed as drift.
   */
  "reported_below_count",
  /**
   * A billable call of a known consumer whose model no price covers (plan, own rate): metered, costed at nothing until
   * priced.
   */
  "unpriced",
] as const;

export type Anomaly = (typeof ANOMALIES)[number];
