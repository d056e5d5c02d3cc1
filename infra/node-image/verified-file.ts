/**
 * A node image on the machine that runs `pulumi up`, checked against the sha256 the stack pins, before the
 * OpenStack provider uploads it to Glance. The source is an http(s) URL, downloaded once into a cache directory,
 * or a local file used where it is. Integrity comes from the digest, not the transport, so plain http is allowed.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Readable } from "stream";
import { pipeline } from "stream/promises";

export const SHA256_PATTERN = /^[0-9a-f]{64}$/;

export function isUrlSource(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/** Where downloaded images are kept: $XDG_CACHE_HOME/image-pipeline/node-images, else ~/.cache/... */
export function defaultImageCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(os.homedir(), ".cache");
  return path.join(base, "image-pipeline", "node-images");
}

/** What is wrong with a source and digest, one line per problem; empty when they can be fetched and checked. */
export function imageSourceProblems(source: string, sha256: string): string[] {
  const problems: string[] = [];
  if (!SHA256_PATTERN.test(sha256)) problems.push(`sha256 must be 64 lower-case hex digits (sha256sum prints them), got "${sha256}"`);
  if (source.trim() === "") problems.push("the source is empty");
  else if (isUrlSource(source)) {
    try {
      new URL(source);
    } catch {
      problems.push(`"${source}" is not a valid URL`);
    }
  } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) {
    problems.push(`"${source}" is neither an http(s) URL nor a local file path`);
  }
  return problems;
}

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(fs.createReadStream(file), hash);
  return hash.digest("hex");
}

function mismatch(source: string, expected: string, actual: string): Error {
  return new Error(
    `node image ${source}: sha256 is ${actual}, expected ${expected}. Fix: check the download (or the file), then set image-pipeline:nodeImageSha256 to the published digest`,
  );
}

export interface VerifiedFile {
  readonly path: string;
  readonly sizeBytes: number;
}

/** A local file whose sha256 is `expected`; throws when it is missing or differs. */
export async function verifyLocalFile(file: string, expected: string): Promise<VerifiedFile> {
  const absolute = path.resolve(file);
  if (!fs.existsSync(absolute)) throw new Error(`node image ${absolute} does not exist on this machine`);
  const actual = await sha256OfFile(absolute);
  if (actual !== expected) throw mismatch(absolute, expected, actual);
  return { path: absolute, sizeBytes: fs.statSync(absolute).size };
}

/**
 * Downloads `url` into `cacheDir` as <sha256>.img, hashing while it streams; keeps nothing when the digest differs.
 * A cached copy with the right digest is used without downloading again.
 */
export async function downloadVerified(url: string, expected: string, cacheDir: string): Promise<VerifiedFile> {
  fs.mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
  const target = path.join(cacheDir, `${expected}.img`);
  if (fs.existsSync(target) && (await sha256OfFile(target)) === expected) return { path: target, sizeBytes: fs.statSync(target).size };
  const partial = `${target}.${process.pid}.partial`;
  try {
    const response = await fetch(url, { redirect: "follow" });
    if (!response.ok || !response.body) throw new Error(`node image ${url}: download answered ${response.status} ${response.statusText}`);
    const hash = createHash("sha256");
    const body = Readable.fromWeb(response.body as import("stream/web").ReadableStream<Uint8Array>);
    body.on("data", (chunk: Buffer) => hash.update(chunk));
    await pipeline(body, fs.createWriteStream(partial, { mode: 0o600 }));
    const actual = hash.digest("hex");
    if (actual !== expected) throw mismatch(url, expected, actual);
    fs.renameSync(partial, target);
    return { path: target, sizeBytes: fs.statSync(target).size };
  } finally {
    fs.rmSync(partial, { force: true });
  }
}
