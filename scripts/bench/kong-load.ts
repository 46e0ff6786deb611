// Kong-like load: http-log batches of 100 entries (Kong's max_batch_size), posted 8 at a time, as
// statistics-only logs (Kong's ai block, no payload) or with ~2 KB chat payloads logged.
import { kong38Ai, kongLog, kongRequestId } from "../../test/fixtures/kong-logs.ts";
import { clock } from "./stats.ts";
import { rng, textOf } from "./corpus.ts";

export type Mode = "stats-only" | "chat-2kb";
export type Batch = { ids: string[]; body: string };

/** ~2 KB of request and response JSON from the shared corpus, different for every call. */
function chatPayload(random: () => number) {
  const question = textOf(random, 700);
  const answer = textOf(random, 700);
  return {
    requestBody: {
      model: "gpt-4o",
      messages: [
        { role: "system", content: "You are a concise assistant." },
        { role: "user", content: question },
      ],
    },
    responseBody: {
      id: `chatcmpl-${kongRequestId()}`,
      object: "chat.completion",
      model: "gpt-4o-2024-08-06",
      choices: [{ index: 0, finish_reason: "stop", message: { role: "assistant", content: answer } }],
      usage: { prompt_tokens: 180, completion_tokens: 160, total_tokens: 340 },
    },
  };
}

/** `count` batches of `size` entries spread over the consumers (round robin). */
export function makeBatches(mode: Mode, consumers: string[], count: number, size = 100, seed = 1): Batch[] {
  const random = rng(seed);
  let k = 0;
  return Array.from({ length: count }, () => {
    const entries = Array.from({ length: size }, () => {
      const requestId = kongRequestId();
      const consumer = { id: consumers[k++ % consumers.length]! };
      const entry =
        mode === "stats-only"
          ? kongLog({ consumer, requestId, ai: kong38Ai() })
          : kongLog({ consumer, requestId, ...chatPayload(random) });
      return { requestId, entry };
    });
    return { ids: entries.map((e) => e.requestId), body: JSON.stringify(entries.map((e) => e.entry)) };
  });
}

export type Poster = { address: string; secret: string };

async function post(p: Poster, batch: Batch): Promise<boolean> {
  const res = await fetch(`${p.address}/ingest/kong`, {
    method: "POST",
    headers: { authorization: `Bearer ${p.secret}`, "content-type": "application/json" },
    body: batch.body,
  });
  await res.arrayBuffer();
  return res.status === 202;
}

/** Posts every batch, `concurrency` at a time, as fast as they are answered; returns the failures. */
export async function postClosedLoop(
  p: Poster,
  batches: Batch[],
  concurrency: number,
  onPost?: (b: Batch, at: number) => void,
): Promise<number> {
  let next = 0;
  let failures = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < batches.length) {
        const batch = batches[next++]!;
        onPost?.(batch, clock());
        if (!(await post(p, batch))) failures++;
      }
    }),
  );
  return failures;
}

/** Posts the batches at a steady rate of events per second (open loop: a slow answer does not slow the offer). */
export async function postAtRate(
  p: Poster,
  batches: Batch[],
  eventsPerSecond: number,
  onPost: (b: Batch, at: number) => void,
): Promise<number> {
  const start = clock();
  let failures = 0;
  const inFlight: Promise<void>[] = [];
  let sent = 0;
  for (const batch of batches) {
    const due = start + (sent / eventsPerSecond) * 1000;
    const wait = due - clock();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    onPost(batch, clock());
    inFlight.push(post(p, batch).then((ok) => void (ok || failures++)));
    sent += batch.ids.length;
  }
  await Promise.all(inFlight);
  return failures;
}
