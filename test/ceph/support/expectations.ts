/** Assertions shared by the event-path suites: exactly one correct output and one event row per input. */
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { inverted, readOutputImage, type PipelineUnderTest, type TestImage } from "./pipeline";

/** PUTs the images one by one; returns key → eTag (MD5 of the body, as RGW reports it). */
export async function uploadImages(s3: S3Client, bucket: string, images: TestImage[]): Promise<Map<string, string>> {
  const eTags = new Map<string, string>();
  for (const image of images) {
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: image.key, Body: image.body, ContentType: "image/png" }));
    expect(put.$metadata.httpStatusCode).toBe(200);
    eTags.set(image.key, createHash("md5").update(image.body).digest("hex"));
  }
  return eTags;
}

/** Every image has exactly one processed event row, one done job, and one output whose pixels are 255 - input. */
export async function expectProcessedExactlyOnce(
  s3: S3Client,
  pipeline: PipelineUnderTest,
  images: TestImage[],
  eTags: Map<string, string>,
  outputPrefix: string,
): Promise<void> {
  const keys = new Set(images.map((image) => image.key));
  const events = (await pipeline.events()).filter((row) => keys.has(row.input_key));
  expect(events.map((row) => row.input_key).sort()).toEqual([...keys].sort());
  for (const image of images) {
    const row = events.find((event) => event.input_key === image.key)!;
    expect(row).toMatchObject({
      input_etag: eTags.get(image.key),
      status: "processed",
      output_bucket: pipeline.outputBucket,
      output_key: `${outputPrefix}${image.key}`,
      width: image.width,
      height: image.height,
      format: "png",
    });
    const output = await readOutputImage(s3, pipeline.outputBucket, `${outputPrefix}${image.key}`);
    expect(output).toMatchObject({ contentType: "image/png", format: "png", width: image.width, height: image.height });
    expect(output.pixels.equals(inverted(image.pixels))).toBe(true);
  }
  const jobs = (await pipeline.jobs()).filter((job) => keys.has(job.object_key));
  expect(jobs.map((job) => [job.object_key, job.status]).sort()).toEqual(images.map((image) => [image.key, "done"]).sort());
}

export async function listKeys(s3: S3Client, bucket: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((object) => object.Key!));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}
