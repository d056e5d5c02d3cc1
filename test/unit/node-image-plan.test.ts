/**
 * The node image in the offline plan: without nodeImageSource the nodes boot the named image and nothing is
 * uploaded; with it, the file is checked against its sha256, uploaded to Glance under `image`, its upload checksum
 * verified, and every node boots that image by id. Config validation names the key and the fix.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseStackConfig } from "../../infra/config";
import { SOURCE_SHA256_PROPERTY } from "../../infra/node-image/node-image";
import { MOCK_IMAGE_CACHE_DIR, planStack } from "../../scripts/plan";
import { cachedPlan } from "../support/plan-cache";
import { configProblems, mapSource, stackValues } from "../support/configSource";
import type { Plan } from "../support/plan";
import { byName, ofType } from "../support/plan";
import { consequences } from "../support/replacement-model";

const T = {
  image: "openstack:images/image:Image",
  file: "pulumi-nodejs:dynamic/image-pipeline:VerifiedImageFile",
  instance: "openstack:compute/instance:Instance",
};
const URL_SOURCE = "https://cloud-images.ubuntu.com/noble/20261201/noble-server-cloudimg-amd64.img";
const SHA_A = "a".repeat(64);
const SHA_B = "b".repeat(64);

let dir: string;
let localFile: string;
const plans: Record<string, Plan> = {};

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "node-image-plan-"));
  localFile = path.join(dir, "noble.qcow2");
  fs.writeFileSync(localFile, "not really an image");
  // Sequential: the Pulumi runtime is process-global.
  plans.dev = await cachedPlan("dev");
  plans.prod = await cachedPlan("prod");
  plans.devUrl = await planStack("dev", {
    configOverrides: {
      "image-pipeline:image": "ip-dev-ubuntu-24.04",
      "image-pipeline:nodeImageSource": URL_SOURCE,
      "image-pipeline:nodeImageSha256": SHA_A,
    },
  });
  plans.prodLocal = await planStack("prod", {
    configOverrides: {
      "image-pipeline:nodeImageSource": localFile,
      "image-pipeline:nodeImageSha256": SHA_A.toUpperCase(),
      "image-pipeline:nodeImageDiskFormat": "raw",
    },
  });
}, 180_000);

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test("without nodeImageSource nothing is uploaded and every node boots the named image", () => {
  for (const [plan, name] of [
    [plans.dev, "CC-Ubuntu24.04"],
    [plans.prod, "Ubuntu-24.04"],
  ] as const) {
    expect(ofType(plan, T.image)).toEqual([]);
    expect(ofType(plan, T.file)).toEqual([]);
    const instances = ofType(plan, T.instance);
    expect(instances.length).toBe(3);
    for (const instance of instances) {
      expect(instance.inputs.imageName).toBe(name);
      expect(instance.inputs.imageId).toBeUndefined();
    }
  }
});

test("a URL is downloaded and checked against its sha256, then uploaded to Glance under `image` with its checksum verified", () => {
  const file = byName(plans.devUrl, "node-image-file");
  expect(file.type).toBe(T.file);
  expect(file.parent).toBe("node-image");
  expect(file.inputs).toMatchObject({ source: URL_SOURCE, sha256: SHA_A });

  const image = byName(plans.devUrl, "node-image-glance");
  expect(image.type).toBe(T.image);
  expect(image.provider).toBe("openstack");
  expect(image.inputs).toEqual({
    name: "ip-dev-ubuntu-24.04",
    localFilePath: `${MOCK_IMAGE_CACHE_DIR}/${SHA_A}.img`,
    diskFormat: "qcow2",
    containerFormat: "bare",
    verifyChecksum: true,
    visibility: "private",
    properties: { [SOURCE_SHA256_PROPERTY]: SHA_A },
  });
  // The provider downloads nothing itself: the file it uploads is the one checked against the pinned digest.
  expect(image.inputs.imageSourceUrl).toBeUndefined();
  expect(image.dependsOn).toContain("node-image-file");
});

test("with an upload every node boots the uploaded image by id, after it exists, and never by name", () => {
  const instances = ofType(plans.devUrl, T.instance);
  expect(instances.length).toBe(3);
  for (const instance of instances) {
    expect(instance.inputs.imageId).toBe("node-image-glance-id");
    expect(instance.inputs.imageName).toBeUndefined();
    expect(instance.dependsOn).toContain("node-image-glance");
    expect(instance.options.replaceOnChanges).toContain("imageId");
  }
});

test("a local file is uploaded from where it is, with the stack's disk format; the digest is compared in lower case", () => {
  const image = byName(plans.prodLocal, "node-image-glance");
  expect(image.inputs).toMatchObject({ name: "Ubuntu-24.04", localFilePath: localFile, diskFormat: "raw" });
  expect(byName(plans.prodLocal, "node-image-file").inputs).toMatchObject({ source: localFile, sha256: SHA_A });
  for (const instance of ofType(plans.prodLocal, T.instance)) expect(instance.inputs.imageId).toBe("node-image-glance-id");
});

test("another sha256 for the same local file is a new Glance image, and the nodes booted from it are replaced", async () => {
  const config = { nodeImageSource: localFile, nodeImageSha256: SHA_A };
  const before = await planStack("prod", {
    showSecrets: true,
    configOverrides: Object.fromEntries(Object.entries(config).map(([k, v]) => [`image-pipeline:${k}`, v])),
  });
  const c = await consequences("prod", before, { config: { ...config, nodeImageSha256: SHA_B } });
  // The path stays the same; only the recorded digest tells the image apart, and it must force a new image.
  expect(c.changes["node-image-glance"]).toEqual([`properties.${SOURCE_SHA256_PROPERTY}`]);
  expect(c.replaced).toEqual(
    expect.arrayContaining(["node-image-file", "node-image-glance", ...ofType(before, T.instance).map((i) => i.name)]),
  );
}, 180_000);

describe("config", () => {
  const parse = (overrides: Record<string, string | undefined>) => () => parseStackConfig(mapSource(stackValues("dev", overrides)), "dev");

  test("a source needs its sha256, and the digest must be one", () => {
    expect(configProblems(parse({ nodeImageSource: URL_SOURCE }))).toEqual([
      "image-pipeline:nodeImageSha256: is required with nodeImageSource: the image is checked against it before it is uploaded, and nodes boot nothing unchecked. Fix: pulumi config set nodeImageSha256 <64 hex digits>: the image's line in the distribution's SHA256SUMS, or sha256sum <file> of a file you trust",
    ]);
    expect(configProblems(parse({ nodeImageSource: URL_SOURCE, nodeImageSha256: "abc123" }))).toEqual([
      expect.stringMatching(/^image-pipeline:nodeImageSha256: must be 64 hex digits \(a sha256\), got "abc123"\. Fix: /),
    ]);
  });

  test("a local file missing on this machine is a warning (CI may run later ups without it); other URL schemes are refused", () => {
    const missing = path.join(os.tmpdir(), "no-such-dir-image-pipeline", "noble.img");
    const cfg = parseStackConfig(mapSource(stackValues("dev", { nodeImageSource: missing, nodeImageSha256: SHA_A })), "dev");
    expect(cfg.nodes.imageUpload?.source).toBe(missing);
    expect(cfg.warnings).toContain(
      `image-pipeline:nodeImageSource: ${missing} does not exist on this machine: uploading it (a first up, or a new nodeImageSha256) will fail here. Nothing reads it again once uploaded; for uploads from CI, use an https URL`,
    );
    expect(
      parseStackConfig(mapSource(stackValues("dev", { nodeImageSource: localFile, nodeImageSha256: SHA_A })), "dev").warnings.join(),
    ).not.toContain("nodeImageSource");
    expect(configProblems(parse({ nodeImageSource: "ftp://mirror.example/noble.img", nodeImageSha256: SHA_A }))).toEqual([
      expect.stringMatching(
        /^image-pipeline:nodeImageSource: "ftp:\/\/mirror\.example\/noble\.img" is neither an http\(s\) URL nor a local file path\. Fix: /,
      ),
    ]);
  });

  test("an unknown disk format is refused with the accepted ones", () => {
    expect(configProblems(parse({ nodeImageSource: URL_SOURCE, nodeImageSha256: SHA_A, nodeImageDiskFormat: "img" }))).toEqual([
      'image-pipeline:nodeImageDiskFormat: must be one of qcow2, raw, vmdk, vdi, vhd, iso, ami, ari, aki, got "img". Fix: pulumi config set nodeImageDiskFormat qcow2',
    ]);
  });

  test("a digest or disk format without a source is refused: it would upload nothing", () => {
    expect(configProblems(parse({ nodeImageSha256: SHA_A, nodeImageDiskFormat: "raw" }))).toEqual([
      expect.stringMatching(
        /^image-pipeline:nodeImageSha256: is set but nodeImageSource is not, so no image is uploaded\. Fix: pulumi config rm nodeImageSha256, or /,
      ),
      expect.stringMatching(/^image-pipeline:nodeImageDiskFormat: is set but nodeImageSource is not, so no image is uploaded\. Fix: /),
    ]);
  });

  test("a relative local path is resolved against the directory pulumi up runs in", () => {
    const cfg = parseStackConfig(mapSource(stackValues("dev", { nodeImageSource: "package.json", nodeImageSha256: SHA_A })), "dev");
    expect(cfg.nodes.imageUpload).toEqual({ source: path.resolve("package.json"), sha256: SHA_A, diskFormat: "qcow2" });
    expect(parseStackConfig(mapSource(stackValues("dev")), "dev").nodes.imageUpload).toBeUndefined();
  });
});
