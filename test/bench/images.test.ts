import sharp from "sharp";
import { generateImage, mulberry32, pipelineBatchImages, renderPixels, STANDARD_IMAGES, type ImageSpec } from "../../bench/lib/images";

const small: ImageSpec = { name: "small", width: 64, height: 48, format: "jpeg", seed: 7 };

describe("deterministic benchmark images", () => {
  it("the PRNG is a pure function of its seed", () => {
    const a = mulberry32(123);
    const b = mulberry32(123);
    const c = mulberry32(124);
    const seqA = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(seqA);
    expect(Array.from({ length: 5 }, c)).not.toEqual(seqA);
    for (const v of seqA) expect(v >= 0 && v < 1).toBe(true);
  });

  it("the same spec gives the same bytes; another seed gives other pixels", async () => {
    const a = await generateImage(small);
    const b = await generateImage(small);
    expect(b.sha256).toBe(a.sha256);
    expect(b.data.equals(a.data)).toBe(true);
    expect(renderPixels({ ...small, seed: 8 }).pixels.equals(renderPixels(small).pixels)).toBe(false);
  });

  it("encodes the requested size and format, with alpha only when asked", async () => {
    const jpeg = await generateImage(small);
    expect(await sharp(jpeg.data).metadata()).toMatchObject({ format: "jpeg", width: 64, height: 48, channels: 3 });
    const png = await generateImage({ ...small, format: "png", alpha: true });
    const meta = await sharp(png.data).metadata();
    expect(meta).toMatchObject({ format: "png", width: 64, height: 48, channels: 4, hasAlpha: true });
    // The alpha ramp runs from transparent (top left) to opaque (bottom right).
    const { data, info } = await sharp(png.data).raw().toBuffer({ resolveWithObject: true });
    expect(data[3]).toBe(0);
    expect(data[(info.width * info.height - 1) * 4 + 3]).toBeGreaterThan(240);
    expect(jpeg.megapixels).toBeCloseTo((64 * 48) / 1e6);
  });

  it("has photo-like content, not a flat colour that would compress to nothing", () => {
    const { pixels } = renderPixels(small);
    expect(new Set(pixels).size).toBeGreaterThan(100);
  });

  it("names the sizes the issue asks for", () => {
    const mp = (s: ImageSpec): number => (s.width * s.height) / 1e6;
    expect(mp(STANDARD_IMAGES.jpeg1mp)).toBe(1);
    expect(mp(STANDARD_IMAGES.pngAlpha1mp)).toBe(1);
    expect(STANDARD_IMAGES.pngAlpha1mp).toMatchObject({ format: "png", alpha: true });
    expect(mp(STANDARD_IMAGES.jpeg12mp)).toBe(12);
    expect(mp(STANDARD_IMAGES.jpeg24mp)).toBe(24);
  });

  it("gives the pipeline batch (and the hand-built loop) ten distinct 1 MP JPEGs, the same on every call", async () => {
    const [a, b] = await Promise.all([pipelineBatchImages("1mp-jpeg"), pipelineBatchImages("1mp-jpeg")]);
    expect(a).toHaveLength(10);
    expect(new Set(a.map((i) => i.sha256)).size).toBe(10);
    expect(b.map((i) => i.sha256)).toEqual(a.map((i) => i.sha256));
    expect(a.every((i) => i.megapixels === 1 && i.spec.format === "jpeg")).toBe(true);
  });

  it("rejects impossible dimensions with the image's name", () => {
    expect(() => renderPixels({ ...small, width: 0 })).toThrow(/image small: width and height must be positive integers, got 0x48/);
  });
});
