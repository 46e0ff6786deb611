// What authorize needs to know about a request body before it decides: the model, the input tokens
// (counted within a time budget) and the output cap the client asked for. Pure, so the same code
// runs inline for small bodies and in the measuring workers for large ones (measure-pool.ts).
import { requestTokens } from "../tokens/chat.ts";
import { CountBudgetExceeded, counterFor } from "../tokens/counter.ts";
import { encodingNameFor, type EncodingName } from "../tokens/encoding.ts";
import { outputCapOf, type OutputCap } from "./output-cap.ts";

export type MeasureInput = {
  /** The client's request body: the raw text Kong read, or already parsed JSON. */
  body?: unknown;
  /** The model named by the gateway, if any. */
  model?: string;
  /** The model MODEL_BY_ROUTE names for the call's route, if any. */
  routeModel?: string;
};

export type Measured = {
  model: string;
  /** Undefined when the body has nothing to count, or counting ran past its budget. */
  inputTokens?: number;
  /** Counting did not finish within the budget. */
  overBudget: boolean;
  /** The output cap and completion count the body asks for (absent when nobody read the body). */
  outputCap?: OutputCap;
};

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

function parsedBody(body: unknown): Json | undefined {
  if (isObj(body)) return body;
  if (typeof body !== "string" || body === "") return undefined;
  try {
    const v = JSON.parse(body) as unknown;
    return isObj(v) ? v : undefined;
  } catch {
    return undefined; // not JSON: nothing to count or check
  }
}

export function measureRequest(input: MeasureInput, defaultEncoding: EncodingName, budgetMs: number): Measured {
  const body = parsedBody(input.body);
  const model = input.model ?? (typeof body?.model === "string" ? body.model : undefined) ?? input.routeModel ?? "unknown";
  const outputCap = outputCapOf(body);
  if (!body) return { model, overBudget: false, outputCap };
  const encoding = encodingNameFor(model, defaultEncoding);
  try {
    const inputTokens = requestTokens(counterFor(encoding).within(budgetMs), body, encoding === "o200k_base");
    return { model, inputTokens, overBudget: false, outputCap };
  } catch (err) {
    if (!(err instanceof CountBudgetExceeded)) throw err;
    return { model, overBudget: true, outputCap };
  }
}
