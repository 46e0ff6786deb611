// The X-User-* headers the gateway plugin adds upstream, in the original plugin's exact format:
// compact JSON for the matrix, capabilities and tags (non-ASCII tags as UTF-8, not \u escapes),
// integers for token limits, plain decimals for prices (0.000000083, never 8.3e-8).
import type { Decimal } from "../domain/money.ts";
import { inSlotOrder, type TdlMatrix } from "../domain/tdl.ts";

export type HeaderSource = {
  externalId: string | null;
  providerName: string | null;
  tags: string[];
  capabilities: number[];
  maxInputTokens: number | null;
  maxOutputTokens: number | null;
  inputCostPerToken: Decimal | undefined;
  outputCostPerToken: Decimal | undefined;
};

/** Header name -> value, in the plugin's order; a value the metadata does not have is left out. */
export function userHeaders(m: HeaderSource, observedToday: TdlMatrix): Record<string, string> {
  const h: Array<[string, string | null]> = [
    ["X-User-TDL-Matrix", JSON.stringify(inSlotOrder(observedToday))],
    ["X-User-Capabilities", JSON.stringify(m.capabilities)],
    ["X-Consumer-ID", m.externalId],
    ["X-User-Max-Input-Tokens", m.maxInputTokens === null ? null : String(m.maxInputTokens)],
    ["X-User-Max-Output-Tokens", m.maxOutputTokens === null ? null : String(m.maxOutputTokens)],
    ["X-User-Input-Cost", m.inputCostPerToken?.toFixed() ?? null],
    ["X-User-Output-Cost", m.outputCostPerToken?.toFixed() ?? null],
    ["X-User-Provider", m.providerName],
    ["X-User-Tags", JSON.stringify(m.tags)],
  ];
  return Object.fromEntries(h.filter((e): e is [string, string] => e[1] !== null));
}
