/**
 * Deterministic benchmark images: the same spec gives the same pixels on every run and machine, so
 * results from different runs compare like for like. Content is photo-like on purpose (smooth
 * gradients plus fine grain) because flat synthetic images compress to almost nothing and would make
 * JPEG decode/encode, the real cost of the transform, look cheaper than it is.
 */
import { createHash } from "node:crypto";
import sharp from "sharp";

export interface ImageSpec {
  /** Short name used in tables and file names, e.g. "12mp-jpeg". */
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly format: "jpeg" | "png";
  /** PNG only: adds an alpha channel with a diagonal transparency ramp. */
  readonly alpha?: boolean;
  readonly seed: number;
}

export interface GeneratedImage {
  readonly spec: ImageSpec;
  readonly data: Buffer;
  readonly sha256: string;
  readonly megapixels: number;
}

/** The images the issue names: 1 MP and 12 MP JPEG, 1 MP PNG with alpha, 24 MP JPEG. */
export const STANDARD_IMAGES = {
  jpeg1mp: { name: "1mp-jpeg", width: 1000, height: 1000, format: "jpeg", seed: 1 },
  pngAlpha1mp: { name: "1mp-png-alpha", width: 1000, height: 1000, format: "png", alpha: true, seed: 2 },
  jpeg12mp: { name: "12mp-jpeg", width: 4000, height: 3000, format: "jpeg", seed: 3 },
  jpeg24mp: { name: "24mp-jpeg", width: 6000, height: 4000, format: "jpeg", seed: 4 },
} as const satisfies Record<string, ImageSpec>;

/** mulberry32: a small, fast PRNG with a 32-bit state; plenty for film grain. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function clampByte(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v | 0;
}

/** Raw interleaved 8-bit pixels (3 or 4 channels) for a spec. */
export function renderPixels(spec: ImageSpec): { pixels: Buffer; channels: 3 | 4 } {
  const { width, height } = spec;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new Error(`image ${spec.name}: width and height must be positive integers, got ${width}x${height}`);
  }
  const channels = spec.alpha ? 4 : 3;
  const pixels = Buffer.allocUnsafe(width * height * channels);
  const random = mulberry32(spec.seed);
  const phase = random() * Math.PI * 2;
  // Separable tables keep generation of 24 MP to well under a second: colour = f(x) + g(y) + grain.
  const colX = Float64Array.from({ length: width }, (_, x) => 60 * Math.sin((x / width) * 7 + phase) + 30 * Math.sin(x / 37));
  const rowY = Float64Array.from({ length: height }, (_, y) => 50 * Math.cos((y / height) * 5 - phase) + 25 * Math.sin(y / 53));
  let i = 0;
  for (let y = 0; y < height; y++) {
    const ry = rowY[y];
    const vertical = (y / height) * 80;
    for (let x = 0; x < width; x++) {
      const cx = colX[x];
      const grain = (random() - 0.5) * 24;
      pixels[i++] = clampByte(128 + cx + ry * 0.5 + grain);
      pixels[i++] = clampByte(100 + cx * 0.4 - ry + vertical + grain);
      pixels[i++] = clampByte(90 + ry * 0.8 - cx * 0.6 + (x / width) * 70 + grain);
      if (channels === 4) pixels[i++] = clampByte(((x + y) / (width + height)) * 255);
    }
  }
  return { pixels, channels };
}

/** Encodes a spec the way a camera or an upload tool would: JPEG quality 90, PNG default compression. */
export async function generateImage(spec: ImageSpec): Promise<GeneratedImage> {
  const { pixels, channels } = renderPixels(spec);
  const raw = sharp(pixels, { raw: { width: spec.width, height: spec.height, channels } });
  const data = spec.format === "jpeg" ? await raw.jpeg({ quality: 90 }).toBuffer() : await raw.png({ compressionLevel: 6 }).toBuffer();
  return { spec, data, sha256: createHash("sha256").update(data).digest("hex"), megapixels: (spec.width * spec.height) / 1e6 };
}

/** The images the pipeline benchmark runs, with how many distinct variants each batch cycles through. */
export const PIPELINE_IMAGES = {
  "1mp-jpeg": { spec: STANDARD_IMAGES.jpeg1mp, variants: 10 },
  "12mp-jpeg": { spec: STANDARD_IMAGES.jpeg12mp, variants: 4 },
} as const;
export type PipelineImage = keyof typeof PIPELINE_IMAGES;

/**
 * A pipeline batch's distinct inputs, cycled over its keys so that nothing downstream can profit from identical
 * inputs. The hand-built loop's benchmark runs the same ones.
 */
export function pipelineBatchImages(image: PipelineImage): Promise<GeneratedImage[]> {
  const { spec, variants } = PIPELINE_IMAGES[image];
  return Promise.all(Array.from({ length: variants }, (_, i) => generateImage({ ...spec, name: `${spec.name}-${i}`, seed: 100 + i })));
}
