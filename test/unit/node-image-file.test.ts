/**
 * The node-image file provider against a real HTTP server on 127.0.0.1 and real files: the image is fetched or
 * read, its sha256 checked before anything is uploaded, and nothing is kept when the digest differs.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import {
  makeVerifiedImageFileProvider,
  verifiedImageFileDiff,
  type VerifiedImageFileOutputs,
} from "../../infra/node-image/verified-file-provider";
import { imageSourceProblems } from "../../infra/node-image/verified-file";

const IMAGE = Buffer.concat([Buffer.from("QFI\xfb"), Buffer.alloc(256 * 1024, 7)]);
const SHA = createHash("sha256").update(IMAGE).digest("hex");

let server: http.Server;
let base: string;
let hits: string[];
let dir: string;

beforeEach(async () => {
  hits = [];
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "node-image-"));
  server = http.createServer((req, res) => {
    hits.push(req.url ?? "");
    if (req.url === "/noble.img") {
      res.writeHead(200, { "Content-Type": "application/octet-stream" });
      res.end(IMAGE);
    } else if (req.url === "/moved.img") {
      res.writeHead(302, { Location: "/noble.img" });
      res.end();
    } else {
      res.writeHead(404);
      res.end("no such image");
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  fs.rmSync(dir, { recursive: true, force: true });
});

const cache = () => path.join(dir, "cache");
const provider = () => makeVerifiedImageFileProvider({ cacheDir: cache, log: () => undefined });

test("a URL is downloaded (following redirects) into the cache as <sha256>.img and checked", async () => {
  const created = await provider().create!({ source: `${base}/moved.img`, sha256: SHA });
  expect(created.id).toBe(SHA);
  expect(created.outs).toEqual({
    source: `${base}/moved.img`,
    sha256: SHA,
    path: path.join(cache(), `${SHA}.img`),
    sizeBytes: IMAGE.length,
  });
  expect(fs.readFileSync(created.outs.path).equals(IMAGE)).toBe(true);
  // A second create finds the checked copy and downloads nothing.
  hits = [];
  await provider().create!({ source: `${base}/noble.img`, sha256: SHA });
  expect(hits).toEqual([]);
  await provider().delete!(SHA, created.outs);
  expect(fs.existsSync(created.outs.path)).toBe(false);
});

test("a download whose sha256 differs fails with both digests and leaves nothing in the cache", async () => {
  const wrong = "0".repeat(63) + "1";
  await expect(provider().create!({ source: `${base}/noble.img`, sha256: wrong })).rejects.toThrow(
    `sha256 is ${SHA}, expected ${wrong}. Fix: check the download (or the file), then set image-pipeline:nodeImageSha256`,
  );
  expect(fs.readdirSync(cache())).toEqual([]);
});

test("a failed download names the status", async () => {
  await expect(provider().create!({ source: `${base}/missing.img`, sha256: SHA })).rejects.toThrow("download answered 404");
});

test("a local file is checked where it is and never deleted", async () => {
  const file = path.join(dir, "noble.qcow2");
  fs.writeFileSync(file, IMAGE);
  const created = await provider().create!({ source: file, sha256: SHA });
  expect(created.outs).toMatchObject({ path: file, sizeBytes: IMAGE.length });
  await provider().delete!(SHA, created.outs);
  expect(fs.existsSync(file)).toBe(true);
  fs.appendFileSync(file, "tampered");
  await expect(provider().create!({ source: file, sha256: SHA })).rejects.toThrow(`expected ${SHA}`);
  await expect(provider().create!({ source: path.join(dir, "absent.qcow2"), sha256: SHA })).rejects.toThrow(
    "does not exist on this machine",
  );
});

test("check skips unknown inputs and names bad ones; diff replaces on another digest only", async () => {
  const p = provider();
  const unknown = { source: unknownValue, sha256: SHA };
  expect(await p.check!(unknown, unknown)).toEqual({ inputs: unknown });
  const bad = { source: "ftp://mirror/noble.img", sha256: "ABC" };
  expect((await p.check!(bad, bad)).failures?.map((f) => f.property)).toEqual(["sha256", "source"]);
  expect(imageSourceProblems("https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img", SHA)).toEqual([]);
  const olds: VerifiedImageFileOutputs = { source: `${base}/noble.img`, sha256: SHA, path: "/x", sizeBytes: 1 };
  expect(verifiedImageFileDiff(olds, { source: `${base}/mirror.img`, sha256: SHA })).toEqual({
    changes: true,
    replaces: [],
    deleteBeforeReplace: false,
  });
  expect(verifiedImageFileDiff(olds, { source: `${base}/noble.img`, sha256: "f".repeat(64) }).replaces).toEqual(["sha256"]);
  expect(verifiedImageFileDiff(olds, { source: `${base}/noble.img`, sha256: unknownValue }).replaces).toEqual(["sha256"]);
  expect(verifiedImageFileDiff(olds, { source: `${base}/noble.img`, sha256: SHA }).changes).toBe(false);
});
