// `npm run bench:tokens` (also the first part of `npm run bench`): how long counting takes for
// 1 MB of one repeated character (one long pre-token piece, tiktoken's quadratic case) and for
// 1 MB of prose, with the ratio between them; tiktoken's own time on the prose for comparison.
// Medians of several runs; the machine is noisy.
import { get_encoding } from "tiktoken";
import { counterFor } from "../src/tokens/counter.ts";

const MB = 1 << 20;
const RUNS = Number(process.env.BENCH_TOKEN_RUNS ?? 5);

function prose(bytes: number): string {
  const words = "the gateway meters every call and bills each consumer by the token with exact decimal prices while operators read usage".split(" ");
  let s = "";
  for (let i = 0; s.length < bytes; i++) s += words[(i * 7919) % words.length] + (i % 17 === 16 ? ".\n" : " ");
  return s.slice(0, bytes);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function time(count: (s: string) => number, text: string): { ms: number; tokens: number } {
  const ms: number[] = [];
  let tokens = 0;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    tokens = count(text);
    ms.push(performance.now() - t0);
  }
  return { ms: median(ms), tokens };
}

const counter = counterFor("o200k_base");
const cases: Array<[string, string]> = [
  ["one_char_1mb", "x".repeat(MB)],
  ["spaces_1mb", " ".repeat(MB)],
  ["cjk_1mb", "数".repeat(MB / 3)],
  ["prose_1mb", prose(MB)],
];
counter.count(prose(64 * 1024)); // warm up the JIT
const results = new Map<string, number>();
for (const [name, text] of cases) {
  const r = time((s) => counter.count(s), text);
  results.set(name, r.ms);
  console.log(`tokens encoding=o200k_base case=${name} bytes=${Buffer.byteLength(text)} median_ms=${r.ms.toFixed(1)} tokens=${r.tokens} runs=${RUNS}`);
}
const reference = get_encoding("o200k_base");
const ref = time((s) => reference.encode_ordinary(s).length, prose(MB));
console.log(`tokens encoding=o200k_base case=prose_1mb counter=tiktoken median_ms=${ref.ms.toFixed(1)} tokens=${ref.tokens} runs=${RUNS}`);
console.log(
  `tokens ratio one_char/prose=${(results.get("one_char_1mb")! / results.get("prose_1mb")!).toFixed(1)} ` +
    `tiktoken/ours on prose=${(ref.ms / results.get("prose_1mb")!).toFixed(1)}`,
);
reference.free();
