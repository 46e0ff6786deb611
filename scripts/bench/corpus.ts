// Text that looks like what LLM calls carry, made from a fixed seed so every run counts the same
// corpus: prose in varied English, some code, numbers and identifiers, a little Korean and Japanese.
// Natural text repeats its words; this corpus does too, at a realistic rate (a Zipf-like draw from
// a vocabulary of ~600 words plus fresh numbers and identifiers that never repeat).

/** A small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  "the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were her she there " +
  "been one all we their has would when if so no will more can who out up said what about its into than them only other time new some could " +
  "these two may first then do any like my now over such our man me even most made after also did many before must through back years where " +
  "much your way well down should because each just those people how too little state good very make world still own see men work long get " +
  "here between both life being under never day same another know while last might us great old year off come since against go came right used " +
  "take three gateway consumer token tokens invoice billing usage model request response latency upstream provider route service plugin " +
  "metering price prices rate limit budget cache context window prompt completion assistant system user function tool call arguments stream " +
  "chunk embedding vector database query index partition offset broker topic message batch commit transaction schema migration deploy " +
  "kubernetes container cluster replica node memory thread process queue worker retry backoff timeout error exception warning debug trace " +
  "summarize explain translate rewrite classify extract answer question document paragraph sentence example please thanks could would " +
  "customer account subscription payment refund order shipping delivery product catalog search recommendation review rating support ticket " +
  "analysis report quarterly revenue growth margin forecast strategy market competitor pricing segment churn retention acquisition funnel " +
  "Python JavaScript TypeScript Rust Go Java SQL JSON YAML HTTP REST GraphQL API SDK CLI OAuth JWT TLS DNS TCP UDP Linux macOS Windows"
).split(" ");
const CJK = [
  "안녕하세요",
  "감사합니다",
  "사용량",
  "요금",
  "토큰",
  "こんにちは",
  "ありがとう",
  "請求書",
  "使用量",
  "東京",
];
const CODE = [
  "const total = items.reduce((sum, item) => sum + item.price * item.quantity, 0);",
  'def handler(event, context):\n    return {"statusCode": 200, "body": json.dumps(event)}',
  "SELECT consumer_id, sum(cost) FROM usage_events WHERE occurred_at >= $1 GROUP BY 1;",
  'if err != nil {\n\treturn fmt.Errorf("read config: %w", err)\n}',
  "for (let i = 0; i < n; i++) { if (a[i] > max) max = a[i]; }",
];

export function textOf(random: () => number, approxBytes: number): string {
  const out: string[] = [];
  let bytes = 0;
  let sentence = 0;
  while (bytes < approxBytes) {
    const r = random();
    let piece: string;
    if (r < 0.9)
      piece = WORDS[Math.floor(WORDS.length * random() ** 2.2)]!; // frequent words first
    else if (r < 0.95) piece = String(Math.floor(random() * 1e6));
    else if (r < 0.97) piece = `id_${Math.floor(random() * 36 ** 6).toString(36)}`;
    else if (r < 0.985) piece = CJK[Math.floor(random() * CJK.length)]!;
    else piece = `\n\n${CODE[Math.floor(random() * CODE.length)]}\n\n`;
    if (sentence === 0) piece = piece.charAt(0).toUpperCase() + piece.slice(1);
    sentence++;
    const end = sentence > 8 + random() * 14 ? (random() < 0.85 ? ". " : "? ") : random() < 0.08 ? ", " : " ";
    if (end !== " " && end !== ", ") sentence = 0;
    out.push(piece, end);
    bytes += piece.length + end.length;
  }
  return out.join("");
}

/**
 * `n` letters in no order that ever repeats: one pre-token piece whose windows all differ, the
 * costliest shape to count (a run of one character counts fast, see src/tokens/bpe.ts).
 */
export function lettersInNoOrder(n: number, seed = 12345): string {
  const random = rng(seed);
  const codes = new Uint8Array(n);
  for (let i = 0; i < n; i++) codes[i] = 97 + Math.floor(random() * 26);
  return Buffer.from(codes).toString("latin1");
}
