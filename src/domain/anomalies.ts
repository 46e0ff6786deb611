// What the meter notices about a call's figures and records on its event, beside the figures.

export type Anomaly =
  /** The provider reported a token count no call can have; it was neither billed nor stored. */
  | "provider_count_implausible"
  /** Counting the logged payload ran past METER_COUNT_BUDGET_MS; the provider's figure was used. */
  | "token_count_over_budget";
