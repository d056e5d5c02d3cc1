/**
 * Pulumi dynamic provider that makes a node image available as a checked local file for `openstack.images.Image`
 * (`localFilePath`). It runs only when the file is needed: create (and replace) download or hash the image; an
 * unchanged stack never touches it again, because the path stays in state.
 *
 * check and diff accept unknown inputs (the engine may not know them during a preview) and judge only what is
 * known; create and update validate for real.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { defaultImageCacheDir, downloadVerified, imageSourceProblems, isUrlSource, verifyLocalFile } from "./verified-file";

export interface VerifiedImageFileInputs {
  /** http(s) URL, or a path on the machine that runs `pulumi up`. */
  readonly source: string;
  readonly sha256: string;
}

export interface VerifiedImageFileOutputs extends VerifiedImageFileInputs {
  /** Absolute path of the checked file. */
  readonly path: string;
  readonly sizeBytes: number;
}

export interface VerifiedImageFileProviderOptions {
  readonly cacheDir?: () => string;
  readonly log?: (message: string) => void;
}

export function verifiedImageFileFailures(inputs: VerifiedImageFileInputs, skipUnknown: boolean): pulumi.dynamic.CheckFailure[] {
  if (skipUnknown && (inputs.source === unknownValue || inputs.sha256 === unknownValue)) return [];
  return imageSourceProblems(String(inputs.source ?? ""), String(inputs.sha256 ?? "")).map((reason) => ({
    property: reason.startsWith("sha256") ? "sha256" : "source",
    reason,
  }));
}

export function verifiedImageFileDiff(olds: VerifiedImageFileOutputs, news: VerifiedImageFileInputs): pulumi.dynamic.DiffResult {
  // Other bytes are another image; another place to get the same bytes from is not.
  const replaces = news.sha256 === unknownValue || olds.sha256 !== news.sha256 ? ["sha256"] : [];
  return { changes: replaces.length > 0 || olds.source !== news.source, replaces, deleteBeforeReplace: false };
}

export function makeVerifiedImageFileProvider(options: VerifiedImageFileProviderOptions = {}): pulumi.dynamic.ResourceProvider {
  const cacheDir = options.cacheDir ?? (() => defaultImageCacheDir());
  const log = options.log ?? ((message: string) => void pulumi.log.info(message));

  async function fetchChecked(inputs: VerifiedImageFileInputs): Promise<VerifiedImageFileOutputs> {
    const failures = verifiedImageFileFailures(inputs, false);
    if (failures.length > 0) throw new Error(`node image: ${failures.map((f) => f.reason).join("; ")}`);
    log(`node image: ${isUrlSource(inputs.source) ? "downloading" : "checking"} ${inputs.source}`);
    const file = isUrlSource(inputs.source)
      ? await downloadVerified(inputs.source, inputs.sha256, cacheDir())
      : await verifyLocalFile(inputs.source, inputs.sha256);
    log(`node image: ${file.path}, ${file.sizeBytes} bytes, sha256 ${inputs.sha256}`);
    return { ...inputs, path: file.path, sizeBytes: file.sizeBytes };
  }

  return {
    async check(_olds: VerifiedImageFileInputs, news: VerifiedImageFileInputs) {
      const failures = verifiedImageFileFailures(news, true);
      return failures.length > 0 ? { inputs: news, failures } : { inputs: news };
    },
    async diff(_id: string, olds: VerifiedImageFileOutputs, news: VerifiedImageFileInputs) {
      return verifiedImageFileDiff(olds, news);
    },
    async create(inputs: VerifiedImageFileInputs) {
      return { id: inputs.sha256, outs: await fetchChecked(inputs) };
    },
    async update(_id: string, _olds: VerifiedImageFileOutputs, news: VerifiedImageFileInputs) {
      return { outs: await fetchChecked(news) };
    },
    async delete(_id: string, props: VerifiedImageFileOutputs) {
      // Only a download this provider made is removed; a local source file is the user's.
      if (isUrlSource(props.source) && path.basename(props.path) === `${props.sha256}.img`) fs.rmSync(props.path, { force: true });
    },
  };
}
