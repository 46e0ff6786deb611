// Measures authorize's request bodies without blocking the API's event loop. Small bodies are
// measured inline (bounded: the counter is near linear, so a few KiB take well under a
// millisecond even at worst). Larger ones go to a pool of worker threads, each request within
// the time budget counted from when it arrived, queueing included. A worker that has not answered
// shortly after the budget is replaced; the request is answered as over budget and authorize
// bounds the text by its bytes instead (input-bound.ts).
import { Worker } from "node:worker_threads";
import { stringifyJson } from "../domain/json.ts";
import { counterFor, type EncodingName } from "../tokens/counter.ts";
import { COMMON_ENCODINGS } from "../tokens/ranks.ts";
import { measureRequest, type MeasureInput, type TextCount } from "./measure-request.ts";

/** Bodies up to this size are measured on the calling thread. */
const INLINE_BYTES = 8 * 1024;
/** How long past its budget a worker may take to answer before it is replaced. */
const GRACE_MS = 50;

type Task = { id: number; input: MeasureInput; submittedAt: number; resolve: (m: TextCount) => void };
type Slot = { worker: Worker; ready: boolean; task?: Task; timer?: NodeJS.Timeout };

const WORKER_URL = new URL(
  import.meta.url.endsWith(".ts") ? "./measure-worker.ts" : "./measure-worker.js",
  import.meta.url,
);
// Under tsx (development, tests) a worker has to register tsx itself before it can load TypeScript.
const WORKER_SOURCE = import.meta.url.endsWith(".ts")
  ? `import("tsx/esm/api").then((m) => { m.register(); return import(${JSON.stringify(WORKER_URL.href)}); })`
  : `import(${JSON.stringify(WORKER_URL.href)})`;

export class MeasurePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: { workers: number; budgetMs: number; defaultEncoding: EncodingName }) {}

  /** Starts the workers and loads the common encodings here too; resolves once all are ready. */
  async start(): Promise<void> {
    for (const name of new Set<EncodingName>([...COMMON_ENCODINGS, this.options.defaultEncoding])) counterFor(name);
    await Promise.all(Array.from({ length: this.options.workers }, () => this.spawn()));
  }

  /**
   * `body` is the request already parsed; `text` its raw text when it came as text. Inline, the
   * parsed body is counted; a worker gets text, which it parses itself (a structured clone of a
   * deeply nested object overflows the stack, and costs as much as parsing).
   */
  measure(
    request: { body: Record<string, unknown>; text?: string; model: string },
    sizeBytes: number,
  ): Promise<TextCount> {
    if (sizeBytes <= INLINE_BYTES || this.options.workers === 0) {
      return Promise.resolve(measureRequest(request, this.options.defaultEncoding, this.options.budgetMs));
    }
    const input: MeasureInput = { body: request.text ?? stringifyJson(request.body), model: request.model };
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextId++, input, submittedAt: performance.now(), resolve });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.queue.splice(0)) t.resolve(UNMEASURED);
    await Promise.all(this.slots.map((s) => this.retire(s)));
  }

  private spawn(): Promise<void> {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { defaultEncoding: this.options.defaultEncoding },
    });
    const slot: Slot = { worker, ready: false };
    this.slots.push(slot);
    return new Promise((resolve) => {
      worker.on("message", (msg: { ready?: true; id?: number; measured?: TextCount; error?: string }) => {
        if (msg.ready) {
          slot.ready = true;
          resolve();
        } else if (slot.task && msg.id === slot.task.id) {
          this.finish(slot, msg.measured ?? UNMEASURED);
        }
        this.dispatch();
      });
      // a worker that dies takes only its own request with it, answered as unmeasured
      worker.on("error", () => this.replace(slot));
      worker.on("exit", () => {
        resolve();
        if (!this.closed && this.slots.includes(slot)) this.replace(slot);
      });
    });
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (!slot.ready || slot.task) continue;
      const task = this.queue.shift();
      if (!task) return;
      const remaining = this.options.budgetMs - (performance.now() - task.submittedAt);
      if (remaining <= 0) {
        task.resolve(UNMEASURED);
        continue;
      }
      slot.task = task;
      slot.timer = setTimeout(() => this.replace(slot), remaining + GRACE_MS);
      slot.worker.postMessage({ id: task.id, input: task.input, budgetMs: remaining });
    }
  }

  private finish(slot: Slot, measured: TextCount): void {
    clearTimeout(slot.timer);
    const task = slot.task;
    slot.task = undefined;
    task?.resolve(measured);
  }

  /** Answers the slot's request as over budget, and puts a fresh worker in its place. */
  private replace(slot: Slot): void {
    if (!this.slots.includes(slot)) return;
    if (slot.task) this.finish(slot, UNMEASURED);
    this.slots.splice(this.slots.indexOf(slot), 1);
    void this.retire(slot);
    if (!this.closed) void this.spawn().then(() => this.dispatch());
  }

  private async retire(slot: Slot): Promise<void> {
    clearTimeout(slot.timer);
    slot.worker.removeAllListeners();
    await slot.worker.terminate().catch(() => {});
  }
}

/** A request nobody counted: authorize bounds its text by its bytes instead. */
const UNMEASURED: TextCount = { overBudget: true };
