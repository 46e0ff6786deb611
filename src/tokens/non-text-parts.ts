// The parts of a request the text counter cannot see: images, audio, video and files, in the
// OpenAI (Chat Completions, Responses), Anthropic Messages, Gemini and Bedrock Converse formats.
// Each is bounded: images by their provider's formula, inline data by its bytes, and a part that
// names data elsewhere (a URL, a file id) is reported unsized, for the caller to bound.
import { IMAGE_HEAD_BYTES, imageSize } from "./image-size.ts";
import { imageTokenBound, type ImageDetail } from "./image-tokens.ts";
import { isJsonObject } from "../domain/json.ts";

type Json = Record<string, unknown>;
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

type PartKind = "image" | "audio" | "video" | "file";

export type NonTextParts = {
  /** Parts found, by kind. */
  counts: Record<PartKind, number>;
  /** The most input tokens the sized parts can add. */
  tokens: number;
  /** Parts whose data is elsewhere (URL, file id): no bound from the request itself. */
  unsized: number;
  /** Characters of inline data (base64 or document text) in the body, which is not text to count. */
  payloadChars: number;
};

/** Inline data: base64 (bare or in a data: URL), or plain text for a text document. */
type Payload = { base64: string } | { text: string };

function dataUrl(url: string | undefined): Payload | undefined {
  const m = url?.match(/^data:[^,]*?;base64,/);
  return m ? { base64: url!.slice(m[0].length) } : undefined;
}

const payloadBytes = (p: Payload) =>
  "base64" in p ? Math.floor((p.base64.length * 3) / 4) : Buffer.byteLength(p.text);
const payloadChars = (p: Payload) => ("base64" in p ? p.base64.length : p.text.length);

function sizeOfImage(p: Payload | undefined) {
  if (!p || !("base64" in p)) return undefined;
  const head = p.base64.slice(0, Math.ceil((IMAGE_HEAD_BYTES * 4) / 3));
  return imageSize(Buffer.from(head, "base64"));
}

type Part = { kind: PartKind; payload?: Payload; detail?: ImageDetail };

const detailOf = (v: unknown): ImageDetail => (v === "low" || v === "high" ? v : "auto");
const kindOfMime = (mime: unknown): PartKind => {
  const m = str(mime) ?? "";
  return m.startsWith("image/")
    ? "image"
    : m.startsWith("audio/")
      ? "audio"
      : m.startsWith("video/")
        ? "video"
        : "file";
};

/** A source object (Anthropic, Bedrock): base64 `data`/`bytes`, plain `text` data, or elsewhere. */
function sourcePayload(source: unknown): Payload | undefined {
  if (!isJsonObject(source)) return undefined;
  if (source.type === "text" && typeof source.data === "string") return { text: source.data };
  const b64 = str(source.data) ?? str(source.bytes);
  return b64 !== undefined ? { base64: b64 } : dataUrl(str(source.url));
}

/** The non-text part this object is, if it is one. */
function partOf(o: Json): Part | undefined {
  switch (o.type) {
    case "image_url": {
      // OpenAI chat: {image_url: {url, detail}}
      const img = isJsonObject(o.image_url) ? o.image_url : { url: o.image_url };
      return { kind: "image", payload: dataUrl(str(img.url)), detail: detailOf(img.detail) };
    }
    case "input_image": // OpenAI responses: {image_url, file_id, detail}
      return { kind: "image", payload: dataUrl(str(o.image_url)), detail: detailOf(o.detail) };
    case "image": // Anthropic: {source: {type: base64 | url | file}}
      return { kind: "image", payload: sourcePayload(o.source) };
    case "input_audio": {
      // OpenAI chat {input_audio: {data, format}}, responses {data}
      const audio = isJsonObject(o.input_audio) ? o.input_audio : o;
      return { kind: "audio", payload: str(audio.data) !== undefined ? { base64: str(audio.data)! } : undefined };
    }
    case "file": {
      // OpenAI chat: {file: {file_data | file_id}}
      const file = isJsonObject(o.file) ? o.file : o;
      return {
        kind: "file",
        payload:
          dataUrl(str(file.file_data)) ??
          (str(file.file_data) !== undefined ? { base64: str(file.file_data)! } : undefined),
      };
    }
    case "input_file": // OpenAI responses: {file_data | file_id | file_url}
      return {
        kind: "file",
        payload:
          dataUrl(str(o.file_data)) ?? (str(o.file_data) !== undefined ? { base64: str(o.file_data)! } : undefined),
      };
    case "document": // Anthropic: {source: {type: base64 | text | url | file | content}}
      return { kind: "file", payload: sourcePayload(o.source) };
  }
  const inline = isJsonObject(o.inlineData) ? o.inlineData : isJsonObject(o.inline_data) ? o.inline_data : undefined;
  if (inline)
    return {
      kind: kindOfMime(inline.mimeType ?? inline.mime_type),
      payload: str(inline.data) !== undefined ? { base64: str(inline.data)! } : undefined,
    }; // Gemini
  const remote = isJsonObject(o.fileData) ? o.fileData : isJsonObject(o.file_data) ? o.file_data : undefined;
  if (remote) return { kind: kindOfMime(remote.mimeType ?? remote.mime_type) }; // Gemini, by URI
  for (const kind of ["image", "video", "document"] as const) {
    // Bedrock Converse: {image: {source: {bytes}}}
    const block = o[kind];
    if (isJsonObject(block) && isJsonObject(block.source))
      return { kind: kind === "document" ? "file" : kind, payload: sourcePayload(block.source) };
  }
  return undefined;
}

/** Finds and bounds every non-text part, at any depth (tool results carry images too). */
export function nonTextParts(body: unknown, model: string): NonTextParts {
  const out: NonTextParts = {
    counts: { image: 0, audio: 0, video: 0, file: 0 },
    tokens: 0,
    unsized: 0,
    payloadChars: 0,
  };
  const stack: unknown[] = [body];
  while (stack.length > 0) {
    const v = stack.pop();
    if (Array.isArray(v)) {
      for (const x of v) if (typeof x === "object" && x !== null) stack.push(x);
      continue;
    }
    if (!isJsonObject(v)) continue;
    const part = partOf(v);
    if (!part) {
      for (const x of Object.values(v)) if (typeof x === "object" && x !== null) stack.push(x);
      continue;
    }
    out.counts[part.kind]++;
    if (part.payload) out.payloadChars += payloadChars(part.payload);
    const bound =
      part.kind === "image" ? imageTokenBound(model, sizeOfImage(part.payload), part.detail ?? "auto") : undefined;
    // a BPE token covers at least one byte, and no provider bills more tokens than bytes of media
    const tokens = bound ?? (part.payload ? payloadBytes(part.payload) : undefined);
    if (tokens === undefined) out.unsized++;
    else out.tokens += tokens;
  }
  return out;
}
