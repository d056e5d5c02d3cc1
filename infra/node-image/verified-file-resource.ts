/** A node image checked against its sha256 on the machine running `pulumi up`; see `verified-file-provider.ts`. */
import * as pulumi from "@pulumi/pulumi";
import { makeVerifiedImageFileProvider } from "./verified-file-provider";

export interface VerifiedImageFileArgs {
  readonly source: pulumi.Input<string>;
  readonly sha256: pulumi.Input<string>;
}

export class VerifiedImageFile extends pulumi.dynamic.Resource {
  /** Absolute path of the checked file, for `openstack.images.Image`'s `localFilePath`. */
  declare readonly path: pulumi.Output<string>;
  declare readonly sizeBytes: pulumi.Output<number>;

  constructor(name: string, args: VerifiedImageFileArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      makeVerifiedImageFileProvider(),
      name,
      { ...args, path: undefined, sizeBytes: undefined },
      opts,
      "image-pipeline",
      "VerifiedImageFile",
    );
  }
}
