// Input tokens of one image, from the providers' published formulas. Used as an upper bound
// before the call (authorize); the provider's own figure bills it. An image whose size is not
// known (a URL, a file id) is held at the largest figure its formula can give.
import type { ImageSize } from "./image-size.ts";

export type ImageDetail = "low" | "high" | "auto";

type Formula = { bound(size: ImageSize | undefined, detail: ImageDetail): number };

/** OpenAI's tiles: fit in 2048×2048, shortest side down to 768, then base + per 512-px tile. */
function tiles(base: number, perTile: number): Formula {
  return {
    bound(size, detail) {
      if (detail === "low") return base;
      if (!size) return base + perTile * 8; // the most tiles any size reaches (768 × 2048)
      let { width: w, height: h } = size;
      const fit = Math.min(1, 2048 / Math.max(w, h));
      w *= fit;
      h *= fit;
      const shrink = Math.min(1, 768 / Math.min(w, h));
      w *= shrink;
      h *= shrink;
      return base + perTile * Math.ceil(w / 512) * Math.ceil(h / 512);
    },
  };
}

/** OpenAI's patches (the mini and nano models): 32-px patches, at most 1536, times a multiplier. */
function patches(multiplier: number): Formula {
  const MAX = 1536;
  return {
    bound(size) {
      const n = size ? Math.min(MAX, Math.ceil(size.width / 32) * Math.ceil(size.height / 32)) : MAX;
      return Math.ceil(n * multiplier);
    },
  };
}

/** Anthropic: width × height / 750, images past about 1.15 megapixels scaled down first. */
const anthropic: Formula = {
  bound: (size) => (size ? Math.min(1600, Math.ceil((size.width * size.height) / 750)) : 1600),
};

/** Gemini: 258 for an image within 384×384, else 258 per 768-px tile. Unknown size: undefined. */
const gemini = {
  bound(size: ImageSize | undefined): number | undefined {
    if (!size) return undefined;
    if (size.width <= 384 && size.height <= 384) return 258;
    return 258 * Math.ceil(size.width / 768) * Math.ceil(size.height / 768);
  },
};

const FAMILIES: Array<[RegExp, Formula | typeof gemini]> = [
  [/claude|anthropic/i, anthropic],
  [/gemini/i, gemini],
  [/gpt-4o-mini/i, tiles(2833, 5667)],
  [/gpt-4\.1-mini|gpt-5-mini/i, patches(1.62)],
  [/gpt-4\.1-nano|gpt-5-nano/i, patches(2.46)],
  [/o4-mini/i, patches(1.72)],
];
/** GPT-4o, GPT-4.1, GPT-5, the o-series and models not named above. */
const DEFAULT = tiles(85, 170);

/**
 * The most input tokens the image can be billed for on `model`; undefined when the model's formula
 * needs a size that is not known (the caller bounds it another way).
 */
export function imageTokenBound(model: string, size: ImageSize | undefined, detail: ImageDetail): number | undefined {
  const formula = FAMILIES.find(([pattern]) => pattern.test(model))?.[1] ?? DEFAULT;
  return formula.bound(size, detail);
}
