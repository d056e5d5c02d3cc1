/**
 * Is one image the colour inversion of another? Compares decoded pixels: every colour channel of the output
 * must be 255 minus the input's, alpha unchanged. Lossless formats must match exactly; JPEG is re-encoded by
 * the worker, so its mean and worst-case error are bounded instead.
 */
import sharp from "sharp";

export interface InversionCheck {
  readonly ok: boolean;
  readonly reason?: string;
  readonly meanError: number;
  readonly maxError: number;
}

/**
 * JPEG at quality 90, decoded and re-encoded once: the smoke check's JPEG (a sharp synthetic gradient, the hard
 * case for JPEG) comes back with a mean error of 6.8 and a worst channel error of 46. An output that was not
 * inverted at all is off by about 64 on average, so a mean of 12 still tells the two apart.
 */
export const JPEG_TOLERANCE = { mean: 12, max: 128 } as const;

async function decode(data: Buffer): Promise<{ pixels: Buffer; width: number; height: number; channels: number; format?: string }> {
  const meta = await sharp(data).metadata();
  const animated = (meta.pages ?? 1) > 1;
  const { data: pixels, info } = await sharp(data, { animated }).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { pixels, width: info.width, height: info.height, channels: info.channels, format: meta.format };
}

export async function checkInversion(input: Buffer, output: Buffer): Promise<InversionCheck> {
  let a: Awaited<ReturnType<typeof decode>>;
  let b: Awaited<ReturnType<typeof decode>>;
  try {
    [a, b] = await Promise.all([decode(input), decode(output)]);
  } catch (err) {
    return { ok: false, reason: `output could not be decoded: ${(err as Error).message}`, meanError: NaN, maxError: NaN };
  }
  if (a.format !== b.format)
    return { ok: false, reason: `format ${b.format} differs from the input's ${a.format}`, meanError: NaN, maxError: NaN };
  if (a.width !== b.width || a.height !== b.height)
    return {
      ok: false,
      reason: `size ${b.width}x${b.height} differs from the input's ${a.width}x${a.height}`,
      meanError: NaN,
      maxError: NaN,
    };
  let sum = 0;
  let max = 0;
  let alphaDiffers = 0;
  for (let i = 0; i < a.pixels.length; i += 4) {
    for (let c = 0; c < 3; c++) {
      const err = Math.abs(b.pixels[i + c] - (255 - a.pixels[i + c]));
      sum += err;
      if (err > max) max = err;
    }
    if (a.pixels[i + 3] !== b.pixels[i + 3]) alphaDiffers++;
  }
  const mean = sum / ((a.pixels.length / 4) * 3);
  const lossy = a.format === "jpeg";
  if (alphaDiffers > 0) return { ok: false, reason: `alpha changed in ${alphaDiffers} pixels`, meanError: mean, maxError: max };
  if (!lossy && max !== 0)
    return { ok: false, reason: `not an exact inversion: mean error ${mean.toFixed(2)}, worst ${max}`, meanError: mean, maxError: max };
  if (lossy && (mean > JPEG_TOLERANCE.mean || max > JPEG_TOLERANCE.max))
    return {
      ok: false,
      reason: `not an inversion within JPEG tolerance (mean ${mean.toFixed(2)} > ${JPEG_TOLERANCE.mean} or worst ${max} > ${JPEG_TOLERANCE.max})`,
      meanError: mean,
      maxError: max,
    };
  return { ok: true, meanError: mean, maxError: max };
}
