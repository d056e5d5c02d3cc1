import sharp from "sharp";
import { invertImage, isLosslessWebp, TransformError } from "../../worker/src/transform";
import * as img from "../../worker/local/sample-images";

const opts = { limitInputPixels: 10_000_000, timeoutMs: 20_000 };

async function rawPixels(data: Buffer, animated = false) {
  return sharp(data, { animated }).raw().toBuffer({ resolveWithObject: true });
}

async function expectError(input: Buffer, code: string, permanent: boolean, message: RegExp, o = opts) {
  let err: unknown;
  try {
    await invertImage(input, o);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(TransformError);
  expect(err).toMatchObject({ code, permanent });
  expect((err as Error).message).toMatch(message);
}

describe("invertImage: lossless formats are exactly 255 - input", () => {
  it.each([
    ["png", () => img.makePng(), "image/png"],
    ["tiff", () => img.makeTiff(), "image/tiff"],
    ["webp", () => img.makeLosslessWebp(), "image/webp"],
  ])("%s", async (format, make, contentType) => {
    const input = await make();
    const out = await invertImage(input, opts);
    expect(out).toMatchObject({ format, contentType, inputBytes: input.length, outputBytes: out.data.length });
    expect((await sharp(out.data).metadata()).format).toBe(format);
    const a = await rawPixels(input);
    const b = await rawPixels(out.data);
    expect(b.info).toMatchObject({ width: a.info.width, height: a.info.height, channels: a.info.channels });
    expect(out.pixels).toBe(a.info.width * a.info.height);
    const alpha = a.info.channels === 4;
    for (let i = 0; i < a.data.length; i++) {
      const isAlpha = alpha && i % 4 === 3;
      expect(b.data[i]).toBe(isAlpha ? a.data[i] : 255 - a.data[i]);
    }
  });

  it("keeps the alpha channel of a PNG untouched while inverting colour", async () => {
    const input = await img.makePngWithAlpha(20, 10);
    const out = await invertImage(input, opts);
    const a = await rawPixels(input);
    const b = await rawPixels(out.data);
    expect(b.info.channels).toBe(4);
    for (let i = 0; i < a.data.length; i += 4) {
      expect([b.data[i], b.data[i + 1], b.data[i + 2], b.data[i + 3]]).toEqual([
        255 - a.data[i],
        255 - a.data[i + 1],
        255 - a.data[i + 2],
        a.data[i + 3],
      ]);
    }
  });

  it("recognises lossless WebP by its VP8L chunk", async () => {
    expect(isLosslessWebp(await img.makeLosslessWebp())).toBe(true);
    expect(
      isLosslessWebp(
        await sharp(await img.makePng())
          .webp({ quality: 80 })
          .toBuffer(),
      ),
    ).toBe(false);
    expect(isLosslessWebp(await img.makePng())).toBe(false);
  });
});

describe("invertImage: formats that need care", () => {
  it("JPEG stays JPEG and is close to 255 - input (lossy)", async () => {
    const input = await img.makeJpeg(64, 48);
    const out = await invertImage(input, opts);
    expect(out.format).toBe("jpeg");
    const a = await rawPixels(input);
    const b = await rawPixels(out.data);
    let err = 0;
    for (let i = 0; i < a.data.length; i++) err += Math.abs(b.data[i] - (255 - a.data[i]));
    expect(err / a.data.length).toBeLessThan(10);
  });

  it("applies EXIF orientation: a 6x2 image tagged orientation 6 comes out 2x6 with no tag", async () => {
    const out = await invertImage(await img.makeRotatedJpeg(), opts);
    const meta = await sharp(out.data).metadata();
    expect([out.width, out.height]).toEqual([2, 6]);
    expect([meta.width, meta.height]).toEqual([2, 6]);
    expect(meta.orientation).toBeUndefined();
  });

  it("converts CMYK JPEG to sRGB before inverting", async () => {
    const input = await img.makeCmykJpeg();
    expect((await sharp(input).metadata()).space).toBe("cmyk");
    const out = await invertImage(input, opts);
    const meta = await sharp(out.data).metadata();
    expect(meta).toMatchObject({ format: "jpeg", space: "srgb", channels: 3 });
    const srgbIn = await sharp(input).toColourspace("srgb").raw().toBuffer();
    const b = await rawPixels(out.data);
    let err = 0;
    for (let i = 0; i < srgbIn.length; i++) err += Math.abs(b.data[i] - (255 - srgbIn[i]));
    expect(err / srgbIn.length).toBeLessThan(10);
  });

  it("reduces 16-bit PNG to 8-bit sRGB and inverts it", async () => {
    const input = await img.makePng16();
    expect((await sharp(input).metadata()).depth).toBe("ushort");
    const out = await invertImage(input, opts);
    const meta = await sharp(out.data).metadata();
    expect(meta).toMatchObject({ format: "png", depth: "uchar" });
    const src = img.gradientPixels(16, 8, 3);
    const b = await rawPixels(out.data);
    for (let i = 0; i < src.length; i++) expect(Math.abs(b.data[i] - (255 - src[i]))).toBeLessThanOrEqual(1);
  });

  it("inverts every frame of an animated GIF and keeps frame count and delays", async () => {
    const input = await img.makeAnimatedGif(3, 8, 6);
    const out = await invertImage(input, opts);
    expect(out).toMatchObject({ format: "gif", frames: 3, width: 8, height: 6, pixels: 8 * 6 * 3 });
    const meta = await sharp(out.data, { animated: true }).metadata();
    expect(meta.pages).toBe(3);
    expect(meta.delay).toEqual([120, 120, 120]);
    const a = await rawPixels(input, true);
    const b = await rawPixels(out.data, true);
    for (let i = 0; i < a.data.length; i += 4) {
      expect([b.data[i], b.data[i + 1], b.data[i + 2]]).toEqual([255 - a.data[i], 255 - a.data[i + 1], 255 - a.data[i + 2]]);
    }
  });

  it("embeds an sRGB profile only when the input carried one", async () => {
    const tagged = await sharp(await img.makePng())
      .withIccProfile("p3")
      .png()
      .toBuffer();
    expect((await sharp(tagged).metadata()).icc).toBeDefined();
    const out = await invertImage(tagged, opts);
    const meta = await sharp(out.data).metadata();
    expect(meta.icc).toBeDefined();
    expect(meta.space).toBe("srgb");
    expect((await sharp((await invertImage(await img.makePng(), opts)).data).metadata()).icc).toBeUndefined();
  });
});

describe("invertImage: bad inputs fail with a classified error", () => {
  it("zero bytes", () => expectError(Buffer.alloc(0), "empty", true, /empty/));
  it("a text file", () => expectError(Buffer.from("this is not an image\n"), "unsupported_format", true, /not a readable image/));
  it("a truncated JPEG", async () => {
    const jpeg = await sharp({
      create: { width: 300, height: 200, channels: 3, background: "black", noise: { type: "gaussian", mean: 128, sigma: 40 } },
    })
      .jpeg()
      .toBuffer();
    await expectError(jpeg.subarray(0, Math.floor(jpeg.length / 2)), "decode_failed", true, /could not be decoded/);
  });
  it("a PNG bomb is refused from its header, before decoding", async () => {
    const bomb = img.makePngBomb(50_000, 50_000);
    expect(bomb.length).toBeLessThan(10_000);
    await expectError(bomb, "pixel_limit", true, /2500000000 pixels, above LIMIT_INPUT_PIXELS=10000000/);
  });
  it("an image just over the configured limit", async () => {
    await expectError(await img.makePng(32, 24), "pixel_limit", true, /768 pixels, above LIMIT_INPUT_PIXELS=767/, {
      ...opts,
      limitInputPixels: 767,
    });
  });
  it("a format we do not write (SVG)", () =>
    expectError(
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>'),
      "unsupported_format",
      true,
      /format 'svg' is not supported/,
    ));
  it("a transform over its time limit is a retryable timeout", async () => {
    const big = await sharp({
      create: { width: 3000, height: 3000, channels: 3, background: "black", noise: { type: "gaussian", mean: 128, sigma: 40 } },
    })
      .png({ compressionLevel: 9 })
      .toBuffer();
    await expectError(big, "timeout", false, /TRANSFORM_TIMEOUT_MS=1/, { limitInputPixels: 1e8, timeoutMs: 1 });
  });
});
