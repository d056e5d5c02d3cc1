/**
 * The image transform: invert colours, keep the format. Pure (buffer in, buffer out, no I/O) so the
 * benchmark and the tests call it directly.
 *
 * Choices (see docs/queue.md "Transform"):
 * - EXIF orientation is applied, so the output is upright and carries no orientation tag.
 * - Colour is inverted in sRGB: CMYK and ICC-tagged inputs are converted to sRGB first, 16-bit
 *   inputs become 8-bit, and an sRGB profile is embedded when the input carried one.
 * - Alpha is kept as it is (`negate({ alpha: false })`).
 * - Animated GIF/WebP: every frame is inverted and the animation (delays, loop) is kept.
 * - Lossless inputs stay lossless (PNG, GIF palette permitting, lossless WebP, TIFF with deflate),
 *   so a lossless output is exactly 255 - input per channel.
 */
import sharp from "sharp";

export const SUPPORTED_FORMATS = ["jpeg", "png", "webp", "tiff", "gif"] as const;
export type ImageFormat = (typeof SUPPORTED_FORMATS)[number];

export const CONTENT_TYPES: Readonly<Record<ImageFormat, string>> = {
  jpeg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
  tiff: "image/tiff",
  gif: "image/gif",
};

export type TransformErrorCode = "empty" | "unsupported_format" | "pixel_limit" | "decode_failed" | "timeout" | "resources";

export class TransformError extends Error {
  constructor(
    readonly code: TransformErrorCode,
    message: string,
    /** Permanent errors fail the same way on every attempt, so the job is dead-lettered at once. */
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = "TransformError";
  }
}

export interface TransformOptions {
  /** Largest width x height x frames accepted; checked from the header before any pixel is decoded. */
  readonly limitInputPixels: number;
  readonly timeoutMs: number;
}

export interface TransformResult {
  readonly data: Buffer;
  readonly format: ImageFormat;
  readonly contentType: string;
  /** Output dimensions (after EXIF rotation); height is per frame. */
  readonly width: number;
  readonly height: number;
  readonly frames: number;
  readonly pixels: number;
  readonly inputBytes: number;
  readonly outputBytes: number;
}

function isSupported(format: string | undefined): format is ImageFormat {
  return (SUPPORTED_FORMATS as readonly string[]).includes(format ?? "");
}

/** A WebP is lossless when its image chunk is VP8L (directly or inside a VP8X container). */
export function isLosslessWebp(data: Buffer): boolean {
  if (data.length < 16 || data.toString("ascii", 0, 4) !== "RIFF" || data.toString("ascii", 8, 12) !== "WEBP") return false;
  let offset = 12;
  while (offset + 8 <= data.length) {
    const fourcc = data.toString("ascii", offset, offset + 4);
    if (fourcc === "VP8L") return true;
    if (fourcc === "VP8 ") return false;
    const size = data.readUInt32LE(offset + 4);
    offset += 8 + size + (size % 2);
  }
  return false;
}

function classifySharpError(err: unknown): TransformError {
  const message = err instanceof Error ? err.message : String(err);
  if (/pixel limit/i.test(message)) return new TransformError("pixel_limit", message, true);
  if (/timeout/i.test(message)) return new TransformError("timeout", `transform timed out: ${message}`, false);
  if (/out of memory|cannot allocate/i.test(message)) return new TransformError("resources", message, false);
  return new TransformError("decode_failed", `image could not be decoded: ${message}`, true);
}

/** Inverts the colours of a JPEG, PNG, WebP, TIFF or GIF image and encodes it in the same format. */
export async function invertImage(input: Buffer, options: TransformOptions): Promise<TransformResult> {
  if (input.length === 0) throw new TransformError("empty", "object is empty (0 bytes)", true);

  let meta: Awaited<ReturnType<ReturnType<typeof sharp>["metadata"]>>;
  try {
    meta = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new TransformError("unsupported_format", `not a readable image: ${message}`, true);
  }
  if (!isSupported(meta.format)) {
    throw new TransformError(
      "unsupported_format",
      `format '${meta.format ?? "unknown"}' is not supported; supported: ${SUPPORTED_FORMATS.join(", ")}`,
      true,
    );
  }
  const format = meta.format;
  const animated = (format === "gif" || format === "webp") && (meta.pages ?? 1) > 1;
  const frames = animated ? (meta.pages ?? 1) : 1;
  const frameHeight = animated ? (meta.pageHeight ?? meta.height ?? 0) : (meta.height ?? 0);
  const inputPixels = (meta.width ?? 0) * frameHeight * frames;
  if (inputPixels > options.limitInputPixels) {
    throw new TransformError(
      "pixel_limit",
      `image has ${meta.width}x${frameHeight}x${frames} = ${inputPixels} pixels, above LIMIT_INPUT_PIXELS=${options.limitInputPixels}`,
      true,
    );
  }

  let pipeline = sharp(input, {
    limitInputPixels: options.limitInputPixels,
    failOn: "error",
    animated,
    sequentialRead: true,
  })
    .autoOrient()
    .negate({ alpha: false })
    .timeout({ seconds: Math.max(1, Math.ceil(options.timeoutMs / 1000)) });
  if (meta.icc) pipeline = pipeline.withIccProfile("srgb");

  switch (format) {
    case "jpeg":
      // No Huffman optimisation (sharp's default is on): it buffers every DCT coefficient of the image and
      // doubles the CPU per image; a 12 MP batch peaked at 433 instead of 156 MiB, for ~7 % smaller files.
      // See BENCHMARKS.md, "What was changed".
      pipeline = pipeline.jpeg({ quality: 90, optimiseCoding: false });
      break;
    case "png":
      pipeline = pipeline.png({ compressionLevel: 6 });
      break;
    case "webp":
      pipeline = isLosslessWebp(input) ? pipeline.webp({ lossless: true, exact: true }) : pipeline.webp({ quality: 90, alphaQuality: 100 });
      break;
    case "tiff":
      pipeline = pipeline.tiff({ compression: "deflate" });
      break;
    case "gif":
      pipeline = pipeline.gif();
      break;
  }

  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TransformError("timeout", `transform exceeded TRANSFORM_TIMEOUT_MS=${options.timeoutMs}`, false)),
      options.timeoutMs,
    );
  });
  try {
    const { data, info } = await Promise.race([pipeline.toBuffer({ resolveWithObject: true }), deadline]);
    const outFrames = animated ? frames : 1;
    const outHeight = animated ? Math.round(info.height / outFrames) : info.height;
    return {
      data,
      format,
      contentType: CONTENT_TYPES[format],
      width: info.width,
      height: outHeight,
      frames: outFrames,
      pixels: info.width * outHeight * outFrames,
      inputBytes: input.length,
      outputBytes: data.length,
    };
  } catch (err) {
    if (err instanceof TransformError) throw err;
    throw classifySharpError(err);
  } finally {
    clearTimeout(timer);
  }
}
