// A consumer's limits, as its metadata states them, and the checks both sides share: the
// authorizer applies them before a call, the meter flags calls that broke them anyway.
import { SLOT_NAMES, type TdlMatrix } from "./tdl.ts";

export type Limits = {
  capabilities: number[];
  maxInputTokens: number | null;
  maxOutputTokens: number | null;
  /** Limit policy: N = at most N calls a day in that slot and level, 0 = no limit. */
  tdlMatrix: TdlMatrix;
};

/** Why the authorizer denies a call; the first four are also the flags the meter records. */
export type DenyCode =
  | "capability_not_granted"
  | "input_tokens_over_limit"
  | "max_tokens_over_limit"
  | "tdl_limit_reached";
export type LimitFlag =
  | "capability_not_granted"
  | "input_tokens_over_limit"
  | "output_tokens_over_limit"
  | "tdl_limit_exceeded";
export const LIMIT_FLAGS: readonly LimitFlag[] = [
  "capability_not_granted",
  "input_tokens_over_limit",
  "output_tokens_over_limit",
  "tdl_limit_exceeded",
];

/** Capability index of a call: the first of route name, route id, model that the map names. */
export function capabilityOf(
  keys: Array<string | undefined | null>,
  map: ReadonlyMap<string, number>,
): number | undefined {
  for (const key of keys) if (key && map.has(key)) return map.get(key);
  return undefined;
}

/** A call with no mapped capability is not restricted; an index beyond the flags is not granted. */
export function capabilityGranted(limits: Pick<Limits, "capabilities">, capability: number | undefined): boolean {
  return capability === undefined || limits.capabilities[capability] === 1;
}

export const overLimit = (value: number | undefined, limit: number | null): boolean =>
  value !== undefined && limit !== null && value > limit;

/** The configured limit of one cell; 0 = no limit. */
export function cellLimit(matrix: TdlMatrix, slot: number, level: number): number {
  return matrix[SLOT_NAMES[slot]!]?.[level] ?? 0;
}

/** Flags of a metered call against the limits in force (TDL is flagged by the meter's cell counts). */
export function limitFlagsOf(
  limits: Limits,
  call: { capability: number | undefined; reachedUpstream: boolean; inputTokens: number; outputTokens: number },
): LimitFlag[] {
  const flags: LimitFlag[] = [];
  if (call.reachedUpstream && !capabilityGranted(limits, call.capability)) flags.push("capability_not_granted");
  if (overLimit(call.inputTokens, limits.maxInputTokens)) flags.push("input_tokens_over_limit");
  if (overLimit(call.outputTokens, limits.maxOutputTokens)) flags.push("output_tokens_over_limit");
  return flags;
}
