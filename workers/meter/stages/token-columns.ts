// A call's billed tokens and every source's figures as the usage event's columns.
import type { Billed, SourceFigures } from "../../../src/domain/billing-policy.ts";
import type { MeteredEvent } from "./metered-event.ts";

type TokenFields = Pick<
  MeteredEvent,
  | "inputTokens"
  | "outputTokens"
  | "cachedInputTokens"
  | "cacheWriteTokens"
  | "reasoningTokens"
  | "inputSource"
  | "outputSource"
  | "providerInputTokens"
  | "providerOutputTokens"
  | "countedInputTokens"
  | "countedOutputTokens"
  | "figures"
>;

export function tokenColumns({
  tokens,
  inputSource,
  outputSource,
  figures,
}: Billed & { figures: SourceFigures }): TokenFields {
  return {
    inputTokens: tokens.input,
    outputTokens: tokens.output,
    cachedInputTokens: tokens.cachedInput,
    cacheWriteTokens: tokens.cacheWrite,
    reasoningTokens: tokens.reasoning,
    inputSource,
    outputSource,
    providerInputTokens: figures.provider?.input,
    providerOutputTokens: figures.provider?.output,
    countedInputTokens: figures.counted?.input,
    countedOutputTokens: figures.counted?.output,
    figures,
  };
}
