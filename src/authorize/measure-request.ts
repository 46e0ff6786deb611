// Counts the input tokens of a request body's text within a time budget. Pure, so the same code
// runs inline for small bodies and in the measuring workers for large ones (measure-pool.ts).
// Everything else authorize needs from the body is read before counting (request-facts.ts).
import { requestTokens } from "../tokens/chat.ts";
import { CountBudgetExceeded, counterFor } from "../tokens/counter.ts";
import { encodingNameFor, type EncodingName } from "../tokens/encoding.ts";

export type MeasureInput = {
  /** The body as a JSON object, or its raw text (parsed here, off the calling thread). */
  body: unknown;
  /** The call's model: it picks the encoding. */
  model: string;
};

export type TextCount = {
  /** Undefined when the body has no format to count, or counting ran past its budget. */
  inputTokens?: number;
  /** Counting did not finish within the budget. */
  overBudget: boolean;
};

function parsed(body: unknown): unknown {
  if (typeof body !== "string") return body;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined; // not JSON: nothing to count
  }
}

export function measureRequest(input: MeasureInput, defaultEncoding: EncodingName, budgetMs: number): TextCount {
  const body = parsed(input.body);
  if (typeof body !== "object" || body === null || Array.isArray(body)) return { overBudget: false };
  const encoding = encodingNameFor(input.model, defaultEncoding);
  try {
    return {
      inputTokens: requestTokens(counterFor(encoding).within(budgetMs), body, encoding === "o200k_base"),
      overBudget: false,
    };
  } catch (err) {
    if (!(err instanceof CountBudgetExceeded)) throw err;
    return { overBudget: true };
  }
}
