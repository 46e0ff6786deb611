// `npm run bench:tokens` (also the first part of `npm run bench`), medians of several runs:
// - worst cases: 1 MB of one repeated character (one long pre-token piece, tiktoken's quadratic
//   case), of spaces and of CJK, beside 1 MB of prose;
// - a realistic corpus (scripts/bench/corpus.ts): ours with fresh caches each run, gpt-tokenizer
//   with its merge cache cleared each run, and tiktoken; every text's count must equal tiktoken's;
// - multi-turn chat, where each request resends the whole conversation: the chat recipe with and
//   without the per-text cache, its hit rate, and the cost of a request's turn 1 against turn 20.
import { clearMergeCache, countTokens } from "gpt-tokenizer/encoding/o200k_base";
import { get_encoding } from "tiktoken";
import { requestTokens } from "../../src/tokens/chat.ts";
import { TokenCounter } from "../../src/tokens/counter.ts";
import { loadEncoding } from "../../src/tokens/ranks.ts";
import { rng, textOf } from "./corpus.ts";
import { line, median } from "./stats.ts";

const MB = 1 << 20;
const RUNS = Number(process.env.BENCH_TOKEN_RUNS ?? 5);
const o200k = loadEncoding("o200k_base");
const counter = (caches: { pieces?: boolean; texts?: boolean } = {}) =>
  new TokenCounter("o200k_base", o200k.ranks, o200k.patStr, caches);

function timed(fn: () => number, before?: () => void): { ms: number; result: number } {
  const ms: number[] = [];
  let result = 0;
  for (let i = 0; i < RUNS; i++) {
    before?.();
    const t0 = performance.now();
    result = fn();
    ms.push(performance.now() - t0);
  }
  return { ms: median(ms), result };
}

function worstCases() {
  const random = rng(7);
  const cases: Array<[string, string]> = [
    ["one_char_1mb", "x".repeat(MB)],
    ["spaces_1mb", " ".repeat(MB)],
    ["cjk_1mb", "数".repeat(MB / 3)],
    ["corpus_1mb", textOf(random, MB)],
  ];
  const ms = new Map<string, number>();
  for (const [name, text] of cases) {
    const r = timed(() => counter().count(text));
    ms.set(name, r.ms);
    console.log(
      line({
        tokens: "worst_case",
        case: name,
        bytes: Buffer.byteLength(text),
        median_ms: r.ms,
        tokens_counted: r.result,
      }),
    );
  }
  // time per byte against prose's (the cases are 1 MB each, as is the prose): the target is at most 2
  const perByte = (name: string) => ms.get(name)! / Buffer.byteLength(cases.find(([n]) => n === name)![1]);
  console.log(
    line({
      tokens: "worst_case_ratio",
      one_char_over_prose: perByte("one_char_1mb") / perByte("corpus_1mb"),
      spaces_over_prose: perByte("spaces_1mb") / perByte("corpus_1mb"),
      cjk_over_prose: perByte("cjk_1mb") / perByte("corpus_1mb"),
      target: 2,
    }),
  );
}

function corpus() {
  const random = rng(11);
  const texts = Array.from({ length: 2000 }, () => textOf(random, 200 + Math.floor(random() * 3800)));
  const bytes = texts.reduce((s, t) => s + Buffer.byteLength(t), 0);
  const tiktoken = get_encoding("o200k_base");
  const expected = texts.map((t) => tiktoken.encode_ordinary(t).length);
  let ours: TokenCounter = counter({ texts: false });
  const mine = timed(
    () => texts.reduce((s, t) => s + ours.count(t), 0),
    () => (ours = counter({ texts: false })),
  );
  const mismatches = texts.filter((t, i) => ours.count(t) !== expected[i]).length;
  const gpt = timed(() => texts.reduce((s, t) => s + countTokens(t), 0), clearMergeCache);
  const ref = timed(() => texts.reduce((s, t) => s + tiktoken.encode_ordinary(t).length, 0));
  tiktoken.free();
  const mbps = (ms: number) => bytes / MB / (ms / 1000);
  const { hits, misses } = ours.pieces!.stats();
  console.log(
    line({
      tokens: "corpus",
      texts: texts.length,
      bytes,
      counter: "tokenmeter",
      median_ms: mine.ms,
      mb_per_s: mbps(mine.ms),
      piece_cache_hit_rate: hits / (hits + misses),
      mismatches_vs_tiktoken: mismatches,
    }),
  );
  console.log(
    line({
      tokens: "corpus",
      counter: "gpt-tokenizer",
      median_ms: gpt.ms,
      mb_per_s: mbps(gpt.ms),
      same_total: String(gpt.result === mine.result),
    }),
  );
  console.log(
    line({
      tokens: "corpus",
      counter: "tiktoken",
      median_ms: ref.ms,
      mb_per_s: mbps(ref.ms),
      same_total: String(ref.result === mine.result),
    }),
  );
  console.log(
    line({ tokens: "corpus_ratio", gpt_tokenizer_over_ours: gpt.ms / mine.ms, tiktoken_over_ours: ref.ms / mine.ms }),
  );
  if (mismatches > 0) throw new Error(`${mismatches} texts counted differently from tiktoken`);
}

/** 50 conversations of 20 turns; request k carries the system prompt and the k earlier exchanges. */
function multiTurn() {
  const random = rng(13);
  const requests: Array<{ turn: number; body: unknown }> = [];
  for (let c = 0; c < 50; c++) {
    const messages: Array<{ role: string; content: string }> = [{ role: "system", content: textOf(random, 400) }];
    for (let turn = 1; turn <= 20; turn++) {
      messages.push({ role: "user", content: textOf(random, 300 + random() * 500) });
      requests.push({ turn, body: { model: "gpt-4o", messages: [...messages] } });
      messages.push({ role: "assistant", content: textOf(random, 300 + random() * 900) });
    }
  }
  const run = (c: TokenCounter) => {
    const perTurn = new Map<number, number>();
    let total = 0;
    for (const r of requests) {
      const t0 = performance.now();
      total += requestTokens(c, r.body, true)!;
      perTurn.set(r.turn, (perTurn.get(r.turn) ?? 0) + performance.now() - t0);
    }
    return { total, perTurn };
  };
  let cached = counter();
  let last = run(cached);
  const withCache = timed(
    () => (last = run(cached)).total,
    () => (cached = counter()),
  );
  const stats = cached.texts!.stats();
  const without = timed(() => run(counter({ texts: false })).total);
  if (without.result !== withCache.result) throw new Error("the text cache changed a count");
  console.log(
    line({
      tokens: "multi_turn",
      conversations: 50,
      turns: 20,
      requests: requests.length,
      with_text_cache_ms: withCache.ms,
      without_ms: without.ms,
      speedup: without.ms / withCache.ms,
      text_cache_hit_rate: stats.hits / (stats.hits + stats.misses),
      turn1_ms: last.perTurn.get(1)!,
      turn20_ms: last.perTurn.get(20)!,
    }),
  );
}

counter().count(textOf(rng(1), 64 * 1024)); // warm up the JIT
worstCases();
corpus();
multiTurn();
