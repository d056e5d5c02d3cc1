/**
 * Small synthetic images: the committed samples/ (regenerate with
 * `npx ts-node --transpile-only worker/local/sample-images.ts samples`) and the test inputs.
 * Built with sharp from computed pixels so their content is known exactly.
 */
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import sharp from "sharp";

/** RGB(A) pixels with a gradient in each channel, so inversion errors show up everywhere. */
export function gradientPixels(width: number, height: number, channels: 3 | 4, seed = 0): Buffer {
  const px = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * channels;
      px[i] = (x * 7 + seed * 13) & 0xff;
      px[i + 1] = (y * 11 + seed * 29) & 0xff;
      px[i + 2] = (x * y + seed * 3) & 0xff;
      if (channels === 4) px[i + 3] = (x * 5 + y * 3) & 0xff;
    }
  }
  return px;
}

const raw = (width: number, height: number, channels: 3 | 4, seed = 0) =>
  sharp(gradientPixels(width, height, channels, seed), { raw: { width, height, channels } });

export const makePng = (w = 32, h = 24, seed = 0): Promise<Buffer> => raw(w, h, 3, seed).png().toBuffer();
export const makePngWithAlpha = (w = 32, h = 24): Promise<Buffer> => raw(w, h, 4).png().toBuffer();
export const makePng16 = (w = 16, h = 8): Promise<Buffer> => raw(w, h, 3).toColourspace("rgb16").png().toBuffer();
export const makeJpeg = (w = 64, h = 48, seed = 0): Promise<Buffer> => raw(w, h, 3, seed).jpeg({ quality: 95 }).toBuffer();
export const makeCmykJpeg = (w = 32, h = 24): Promise<Buffer> => raw(w, h, 3).toColourspace("cmyk").jpeg({ quality: 95 }).toBuffer();
/** Stored 6 wide x 2 high with EXIF orientation 6 (rotate 90° clockwise to display): displays 2 x 6. */
export const makeRotatedJpeg = (): Promise<Buffer> => raw(6, 2, 3).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
export const makeLosslessWebp = (w = 32, h = 24): Promise<Buffer> => raw(w, h, 4).webp({ lossless: true, exact: true }).toBuffer();
export const makeTiff = (w = 32, h = 24): Promise<Buffer> => raw(w, h, 3).tiff({ compression: "deflate" }).toBuffer();

/** Animated GIF whose frames are flat colours taken from a small palette (so quantisation is exact). */
export async function makeAnimatedGif(frames = 3, w = 8, h = 6): Promise<Buffer> {
  const px = Buffer.alloc(w * h * frames * 4);
  for (let f = 0; f < frames; f++) {
    for (let p = 0; p < w * h; p++) {
      const i = (f * w * h + p) * 4;
      px[i] = f * 80;
      px[i + 1] = 40;
      px[i + 2] = 200 - f * 50;
      px[i + 3] = 255;
    }
  }
  return sharp(px, { raw: { width: w, height: h * frames, channels: 4, pageHeight: h } as { width: number; height: number; channels: 4 } })
    .gif({ delay: Array(frames).fill(120), loop: 0 })
    .toBuffer();
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body));
  return Buffer.concat([len, body, crc]);
}

/**
 * A decompression bomb: a valid PNG of a few hundred bytes declaring width x height pixels whose
 * image data is a deflate stream of zeros.
 */
export function makePngBomb(width = 50_000, height = 50_000): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  const rows = zlib.deflateSync(Buffer.alloc((width + 1) * 64), { level: 9 }); // only the first rows; the rest is missing
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", rows),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

/** The committed samples: one per supported format, with a key that needs careful encoding. */
export async function sampleFiles(): Promise<Record<string, Buffer>> {
  return {
    "gradient.png": await makePng(64, 48, 1),
    "alpha gradient.png": await makePngWithAlpha(48, 32),
    "photo.jpg": await makeJpeg(96, 64, 2),
    "rotated-exif6.jpg": await makeRotatedJpeg(),
    "lossless.webp": await makeLosslessWebp(40, 30),
    "scan.tiff": await makeTiff(40, 30),
    "blink+anim.gif": await makeAnimatedGif(3, 16, 12),
  };
}

if (require.main === module) {
  const dir = path.resolve(process.argv[2] ?? "samples");
  fs.mkdirSync(dir, { recursive: true });
  sampleFiles().then(
    (files) => {
      for (const [name, data] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), data);
      process.stdout.write(`wrote ${Object.keys(files).length} samples to ${dir}\n`);
    },
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
