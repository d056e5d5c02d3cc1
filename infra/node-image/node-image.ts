/**
 * The image the nodes boot: an existing Glance image by name, or one this program uploads. An upload is checked
 * twice: the file against the sha256 the stack pins, on the machine that runs `pulumi up`, before any byte leaves
 * it (VerifiedImageFile); then Glance's checksum of what it stored against the file's (the provider's
 * verifyChecksum), so a truncated upload fails `up` instead of booting.
 */
import * as openstack from "@pulumi/openstack";
import * as pulumi from "@pulumi/pulumi";
import type { NodeImageUpload } from "../config/node-image";
import { VerifiedImageFile } from "./verified-file-resource";

/** What `openstack.compute.Instance` boots: `imageName` for an existing image, `imageId` for the uploaded one. */
export type NodeBootImage = { readonly kind: "name"; readonly name: string } | { readonly kind: "id"; readonly id: pulumi.Input<string> };

/** The Glance property that records which file an uploaded image was made from. */
export const SOURCE_SHA256_PROPERTY = "image_pipeline_source_sha256";

/** Glance's container format for a plain disk image (no OVF/OVA wrapper), which is what cloud images are. */
const CONTAINER_FORMAT = "bare";

export interface NodeImageArgs {
  /** Name of the image in Glance. */
  readonly name: string;
  readonly upload: NodeImageUpload;
}

export class NodeImage extends pulumi.ComponentResource {
  readonly imageId: pulumi.Output<string>;
  /** Where the checked file is on the machine that uploaded it. */
  readonly filePath: pulumi.Output<string>;

  constructor(name: string, args: NodeImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("image-pipeline:nodes:NodeImage", name, {}, opts);
    const file = new VerifiedImageFile(`${name}-file`, { source: args.upload.source, sha256: args.upload.sha256 }, { parent: this });
    const image = new openstack.images.Image(
      `${name}-glance`,
      {
        name: args.name,
        localFilePath: file.path,
        diskFormat: args.upload.diskFormat,
        containerFormat: CONTAINER_FORMAT,
        verifyChecksum: true,
        visibility: "private",
        properties: { [SOURCE_SHA256_PROPERTY]: args.upload.sha256 },
      },
      {
        parent: this,
        // A local file keeps its path when its content (and pinned sha256) changes, and the provider would only
        // update the property in place: other bytes must be a new image, which replaces the nodes booted from it.
        replaceOnChanges: [`properties.${SOURCE_SHA256_PROPERTY}`],
      },
    );
    this.imageId = image.id;
    this.filePath = file.path;
    this.registerOutputs({ imageId: this.imageId, filePath: this.filePath });
  }
}
