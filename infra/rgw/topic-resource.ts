/** The Ceph RGW notification topic as a Pulumi resource; the work happens in `topic-provider.ts`. */
import * as pulumi from "@pulumi/pulumi";
import { rgwTopicProvider } from "./topic-provider";

export interface RgwTopicArgs {
  readonly endpoint: pulumi.Input<string>;
  /** RGW zonegroup, used as the SigV4 region; usually "default". */
  readonly region: pulumi.Input<string>;
  readonly accessKeyId: pulumi.Input<string>;
  readonly secretAccessKey: pulumi.Input<string>;
  readonly name: pulumi.Input<string>;
  readonly pushEndpoint: pulumi.Input<string>;
  readonly opaqueData: pulumi.Input<string>;
  readonly persistent: pulumi.Input<boolean>;
  readonly verifySsl: pulumi.Input<boolean>;
}

export class RgwTopic extends pulumi.dynamic.Resource {
  declare readonly arn: pulumi.Output<string>;
  declare readonly revision: pulumi.Output<string>;
  declare readonly name: pulumi.Output<string>;
  declare readonly pushEndpoint: pulumi.Output<string>;
  declare readonly persistent: pulumi.Output<boolean>;
  declare readonly verifySsl: pulumi.Output<boolean>;

  constructor(name: string, args: RgwTopicArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      rgwTopicProvider,
      name,
      { ...args, arn: undefined, revision: undefined },
      // The shared secret and the S3 credentials are echoed into state; keep them encrypted there.
      { ...opts, additionalSecretOutputs: ["opaqueData", "accessKeyId", "secretAccessKey"] },
      "image-pipeline",
      "RgwTopic",
    );
  }
}
