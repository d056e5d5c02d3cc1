/**
 * An OS image the program uploads to Glance and boots the nodes from, for a cloud (or a project) that lacks a
 * suitable one. Unset: the nodes boot the existing image named by `image`.
 */
import * as fs from "fs";
import * as path from "path";
import { imageSourceProblems, isUrlSource, SHA256_PATTERN } from "../node-image/verified-file";
import type { ConfigDefaults, ConfigReader } from "./reader";

export const NODE_IMAGE_DEFAULTS: ConfigDefaults = {
  nodeImageSource: "",
  nodeImageSha256: "",
  nodeImageDiskFormat: "qcow2",
};

/** Glance disk formats the OpenStack provider accepts (images.Image `diskFormat`). */
export const NODE_IMAGE_DISK_FORMATS = ["qcow2", "raw", "vmdk", "vdi", "vhd", "iso", "ami", "ari", "aki"] as const;
export type NodeImageDiskFormat = (typeof NODE_IMAGE_DISK_FORMATS)[number];

export interface NodeImageUpload {
  /** An http(s) URL, or an absolute path on the machine that runs `pulumi up`. */
  readonly source: string;
  /** sha256 of the file, as the distribution publishes it (SHA256SUMS). */
  readonly sha256: string;
  readonly diskFormat: NodeImageDiskFormat;
}

const SOURCE_EXAMPLE =
  "pulumi config set nodeImageSource https://cloud-images.ubuntu.com/noble/current/noble-server-cloudimg-amd64.img (or a local file path)";
const SHA_FIX =
  "pulumi config set nodeImageSha256 <64 hex digits>: the image's line in the distribution's SHA256SUMS, or sha256sum <file> of a file you trust";

/**
 * The upload when `nodeImageSource` is set. A local path is resolved against the directory `pulumi up` runs in (the
 * project's); a missing one is a warning, said before anything is created.
 */
export function readNodeImage(r: ConfigReader): NodeImageUpload | undefined {
  const sourceText = r.optionalString("nodeImageSource");
  const sha256 = r.optionalString("nodeImageSha256")?.toLowerCase();
  const diskFormat = r.oneOf("nodeImageDiskFormat", NODE_IMAGE_DISK_FORMATS);
  if (sourceText === undefined) {
    for (const key of ["nodeImageSha256", "nodeImageDiskFormat"]) {
      if (r.isSet(key))
        r.problem(key, "is set but nodeImageSource is not, so no image is uploaded", `pulumi config rm ${key}, or ${SOURCE_EXAMPLE}`);
    }
    return undefined;
  }
  if (sha256 === undefined) {
    r.problem(
      "nodeImageSha256",
      "is required with nodeImageSource: the image is checked against it before it is uploaded, and nodes boot nothing unchecked",
      SHA_FIX,
    );
  } else if (!SHA256_PATTERN.test(sha256)) {
    r.problem("nodeImageSha256", `must be 64 hex digits (a sha256), got "${sha256}"`, SHA_FIX);
  }
  // The digest's own problems are reported above; only the source's are wanted here.
  const sourceProblems = imageSourceProblems(sourceText, "0".repeat(64));
  const source = isUrlSource(sourceText) || sourceProblems.length > 0 ? sourceText : path.resolve(sourceText);
  if (sourceProblems.length > 0) {
    r.problem("nodeImageSource", sourceProblems.join("; "), SOURCE_EXAMPLE);
  } else if (!isUrlSource(source) && !fs.existsSync(source)) {
    // Not a problem: once uploaded, the image is in the state and the file is not read again, so a machine without
    // it (CI running a later `up` or `destroy`) must still be able to run the program.
    r.warn(
      "nodeImageSource",
      `${source} does not exist on this machine: uploading it (a first up, or a new nodeImageSha256) will fail here. Nothing reads it again once uploaded; for uploads from CI, use an https URL`,
    );
  }
  return { source, sha256: sha256 ?? "", diskFormat };
}
