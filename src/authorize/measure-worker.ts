// A measuring worker (measure-pool.ts): loads the common encodings once, then measures one request
// body per message, each within the budget it is given.
import { parentPort, workerData } from "node:worker_threads";
import { counterFor } from "../tokens/counter.ts";
import type { EncodingName } from "../tokens/encoding.ts";
import { COMMON_ENCODINGS } from "../tokens/ranks.ts";
import { measureRequest, type MeasureInput } from "./measure-request.ts";

const { defaultEncoding } = workerData as { defaultEncoding: EncodingName };
for (const name of new Set<EncodingName>([...COMMON_ENCODINGS, defaultEncoding])) counterFor(name);

parentPort!.on("message", ({ id, input, budgetMs }: { id: number; input: MeasureInput; budgetMs: number }) => {
  try {
    parentPort!.postMessage({ id, measured: measureRequest(input, defaultEncoding, budgetMs) });
  } catch (err) {
    parentPort!.postMessage({ id, error: (err as Error).message });
  }
});
parentPort!.postMessage({ ready: true });
