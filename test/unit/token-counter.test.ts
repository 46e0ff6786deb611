// The product's token counter against tiktoken itself: same counts on a varied corpus and on
// generated text, for every encoding, including the shapes that make tiktoken's own merge quadratic.
// `npm run test:fuzz` raises the number of generated texts (TOKEN_PROPERTY_RUNS).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { get_encoding } from "tiktoken";
import { requestTokens } from "../../src/tokens/chat.ts";
import { PieceCounts } from "../../src/tokens/count-cache.ts";
import { CountBudgetExceeded, counterFor, TokenCounter, type EncodingName } from "../../src/tokens/counter.ts";
import { loadEncoding } from "../../src/tokens/ranks.ts";
import { UNICODE_CLASSES } from "../../src/tokens/unicode-classes.ts";
import { engineTables } from "../../scripts/unicode-classes.ts";

const ENCODINGS: EncodingName[] = ["cl100k_base", "o200k_base", "p50k_base", "r50k_base"];
const reference = new Map(ENCODINGS.map((e) => [e, get_encoding(e)]));
const refCount = (e: EncodingName, s: string) => reference.get(e)!.encode_ordinary(s).length;

const CORPUS: Record<string, string> = {
  english: "The quick brown fox jumps over the lazy dog. It's 9:30, isn't it? We'll see; they've gone.",
  korean: "안녕하세요! 서울의 날씨는 어떻습니까? 오늘은 맑고 따뜻합니다. 뭘봐임마",
  japanese_chinese: "日本語のテキストと中文字符，混合在一起。東京タワー",
  code:
    "def fib(n: int) -> int:\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n\n\tconsole.log(`x=$" +
    "{x}`);\r\n",
  json: JSON.stringify({
    model: "gpt-4o",
    messages: [{ role: "user", content: 'Hi "there" \\ / \u00e9' }],
    n: 12345.678,
    ok: true,
  }),
  emoji: "👍🏽 family: 👨‍👩‍👧‍👦 flags: 🇰🇷🇫🇷 ✔︎ ❤️‍🔥 🎉🎉🎉",
  contractions: "I'M HE'S THEY'RE we'VE you'LL she'D it'S 'ſt 'Ss 'LLama",
  whitespace: "a  b   c\t\td\n\ne \r\n\r\n f\u00a0g\u2003h\u3000i\u0085j\ufeffk\u2028l   \n   m     ",
  numbers: "1 12 123 1234 12345 3.14159 -42 1e10 ١٢٣ Ⅻⅻ ²³",
  marks: "café naïve coöperate Ǆǅǆ ʰʲʷ a\u0301e\u0300 क्षि",
  lone_surrogates: "a\ud800b\udc00c\ud83d",
  special_tokens_as_text: "<|endoftext|> <|fim_prefix|> <|endofprompt|>",
  nul_and_controls: "a\u0000b\u0001c\u001fd\u007f",
};

const membersOf = (table: string) =>
  new Set(
    table.split(",").flatMap((r) => {
      const [a, b = a] = r.split("-").map((h) => parseInt(h, 16)) as [number, number?];
      return Array.from({ length: b! - a + 1 }, (_, i) => a + i);
    }),
  );

/**
 * Characters this Node's Unicode tables classify otherwise than tiktoken's engine (a later Unicode: new letters,
 * digits, marks, changed categories).
 */
const RECLASSIFIED: string[] = (() => {
  const out = new Set<number>();
  for (const [cls, table] of Object.entries(UNICODE_CLASSES)) {
    const members = membersOf(table);
    const re = new RegExp(`^\\p{${cls}}$`, "u");
    for (let cp = 0; cp <= 0x10ffff; cp++)
      if ((cp < 0xd800 || cp > 0xdfff) && re.test(String.fromCodePoint(cp)) !== members.has(cp)) out.add(cp);
  }
  return [...out].map((cp) => String.fromCodePoint(cp));
})();

describe("token counter: Unicode classes pinned to tiktoken's engine", () => {
  it("the committed tables are what the engine classifies (scripts/unicode-classes.ts regenerates them)", () => {
    assert.deepEqual(engineTables(), UNICODE_CLASSES);
  });

  it("characters of a later Unicode than the engine's are counted as tiktoken counts them, in every context", () => {
    // Node 20.20's tables are Unicode 17.0 and the engine's 16.0 here; on a Node as old as the engine the list is empty
    const contexts = (c: string) => [
      c,
      c + c + c,
      ` ${c}`,
      `a${c}`,
      `${c}a`,
      `1${c}`,
      `${c}1`,
      `'${c}`,
      `${c}'s`,
      `Hello${c}world`,
      `.${c}.`,
      `12${c}${c}3`,
    ];
    const sample = RECLASSIFIED.filter((_, i) => i % 37 === 0 || i < 20);
    for (const encoding of ["cl100k_base", "o200k_base"] as const) {
      const counter = counterFor(encoding);
      for (const ch of sample)
        for (const s of contexts(ch))
          assert.equal(
            counter.count(s),
            refCount(encoding, s),
            `${encoding} U+${ch.codePointAt(0)!.toString(16)} in ${JSON.stringify(s)}`,
          );
    }
  });
});

describe("token counter: the same counts as tiktoken", () => {
  for (const encoding of ENCODINGS) {
    it(`${encoding}: every corpus text`, () => {
      const counter = counterFor(encoding);
      for (const [name, text] of Object.entries(CORPUS))
        assert.equal(counter.count(text), refCount(encoding, text), name);
    });
  }

  // long pieces take the heap merge; lengths stay where tiktoken's quadratic merge is still quick
  it("long runs of one character, of a few characters, and without spaces", () => {
    const runs = [
      "x".repeat(3001),
      " ".repeat(2500),
      "\n".repeat(2000),
      "!".repeat(2999),
      "中".repeat(1500),
      "🎉".repeat(700),
      "ab".repeat(1800),
      "abc".repeat(1001),
      "aab".repeat(999),
      " x".repeat(1200),
      "7".repeat(3000),
      "\u0301".repeat(1000),
    ];
    for (const encoding of ENCODINGS) {
      const counter = counterFor(encoding);
      for (const text of runs)
        assert.equal(counter.count(text), refCount(encoding, text), `${encoding} ${JSON.stringify(text.slice(0, 6))}…`);
    }
  });

  // Text built from the fragments the pre-tokenizer treats differently, in random order and length.
  const fragment = fc.oneof(
    fc.constantFrom(
      " ",
      "  ",
      "\n",
      "\r\n",
      "\t",
      "\u00a0",
      "\u3000",
      "\u0085",
      "\ufeff",
      "'",
      "'s",
      "'LL",
      "'ſ",
      "'re",
      ".",
      "...",
      "/",
      "\\",
    ),
    fc.string({ unit: "grapheme-ascii", maxLength: 12 }),
    fc.string({ unit: "grapheme", maxLength: 6 }),
    fc.string({ unit: "binary", maxLength: 6 }),
    fc.constantFrom("안녕", "日本", "é", "Ǆ", "١٢", "👍🏽", "\ud800", "123456"),
    // letters, digits and marks Node's Unicode classifies otherwise than tiktoken's engine
    ...(RECLASSIFIED.length > 0 ? [fc.constantFrom(...RECLASSIFIED)] : []),
    fc
      .tuple(fc.constantFrom("x", " ", "ab", "中", "!", "9"), fc.integer({ min: 60, max: 400 }))
      .map(([s, k]) => s.repeat(k)),
  );
  const text = fc.array(fragment, { maxLength: 30 }).map((parts) => parts.join(""));

  for (const encoding of ["cl100k_base", "o200k_base"] as const) {
    it(`${encoding}: generated text (property)`, () => {
      const counter = counterFor(encoding);
      fc.assert(
        fc.property(text, (s) => counter.count(s) === refCount(encoding, s)),
        {
          numRuns: Number(process.env.TOKEN_PROPERTY_RUNS ?? 400),
          seed: Number(process.env.PROPERTY_SEED ?? 20261125),
        },
      );
    });
  }
});

describe("token counter: time budget", () => {
  it("gives up with CountBudgetExceeded once past its deadline, inside one long piece", () => {
    const counter = counterFor("cl100k_base");
    assert.throws(() => counter.within(1).count("x".repeat(1 << 20)), CountBudgetExceeded);
  });

  it("gives up across many short pieces too", () => {
    const counter = counterFor("o200k_base");
    assert.throws(() => counter.within(1).count("word ".repeat(1 << 19)), CountBudgetExceeded);
  });

  it("counts normally within its budget", () => {
    const counter = counterFor("o200k_base");
    assert.equal(counter.within(10_000).count(CORPUS.english!), refCount("o200k_base", CORPUS.english!));
  });
});

describe("token counter: caches never change a count", () => {
  const { ranks, patStr } = loadEncoding("o200k_base");
  const uncached = new TokenCounter("o200k_base", ranks, patStr, { pieces: false, texts: false });

  // Multi-turn traffic: each request resends the system prompt and every earlier message.
  const message = fc.oneof(
    fc.string({ unit: "grapheme", minLength: 0, maxLength: 400 }),
    fc
      .array(fc.constantFrom("the", " gateway", " bills", " 토큰", "\n\n", " 123", "!", " caché"), {
        minLength: 40,
        maxLength: 200,
      })
      .map((w) => w.join("")),
  );
  const conversation = fc.record({
    system: message,
    turns: fc.array(fc.tuple(message, message), { minLength: 1, maxLength: 8 }),
  });

  it("multi-turn conversations: every request counts as without caches and as tiktoken (property)", () => {
    const cached = new TokenCounter("o200k_base", ranks, patStr);
    fc.assert(
      fc.property(conversation, ({ system, turns }) => {
        const messages = [{ role: "system", content: system }];
        for (const [user, assistant] of turns) {
          messages.push({ role: "user", content: user });
          const body = { model: "gpt-4o", messages: [...messages] };
          assert.equal(requestTokens(cached, body, true), requestTokens(uncached, body, true));
          for (const m of messages) assert.equal(cached.count(m.content), refCount("o200k_base", m.content));
          messages.push({ role: "assistant", content: assistant });
        }
      }),
      {
        numRuns: Number(process.env.TOKEN_PROPERTY_RUNS ?? 400) / 4,
        seed: Number(process.env.PROPERTY_SEED ?? 20261125),
      },
    );
  });

  it("a resent long message is found by its content hash, not counted again", () => {
    const counter = new TokenCounter("o200k_base", ranks, patStr);
    const text = `${CORPUS.english} `.repeat(20);
    const first = counter.count(text);
    assert.deepEqual([counter.texts!.hits, counter.texts!.misses], [0, 1]);
    assert.equal(counter.count(text.slice(0)), first);
    assert.deepEqual([counter.texts!.hits, counter.texts!.misses], [1, 1]);
    assert.equal(counter.count(`${text}!`), refCount("o200k_base", `${text}!`), "one character more is another text");
  });

  it("repeated pieces are counted once and the piece cache starts over when full", () => {
    const pieces = new PieceCounts(2);
    pieces.set(" the", 1);
    pieces.set(" token", 1);
    pieces.set(" gateway", 2); // full: starts over
    assert.equal(pieces.get(" the"), undefined);
    assert.equal(pieces.get(" gateway"), 2);
    const counter = new TokenCounter("o200k_base", ranks, patStr);
    // pieces "토큰", " 토큰", " 토큰", " 토큰": two new, two seen before (one-token ASCII pieces skip the cache)
    assert.equal(counter.count("토큰 토큰 토큰 토큰"), refCount("o200k_base", "토큰 토큰 토큰 토큰"));
    assert.deepEqual([counter.pieces!.hits, counter.pieces!.misses], [2, 2]);
    counter.count("the token the token");
    assert.deepEqual([counter.pieces!.hits, counter.pieces!.misses], [2, 2]);
  });

  it("a count cut off by its budget leaves nothing cached for that text", () => {
    const counter = new TokenCounter("o200k_base", ranks, patStr);
    const text = "word ".repeat(1 << 19);
    assert.throws(() => counter.within(1).count(text), CountBudgetExceeded);
    assert.equal(counter.texts!.stats().size, 0);
    assert.equal(counter.count("word ".repeat(1000)), refCount("o200k_base", "word ".repeat(1000)));
  });
});
