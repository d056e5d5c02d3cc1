/** A Trove instance's `access` (is_public + allowed_cidrs) as a Pulumi resource; the work happens in `access-provider.ts`. */
import * as pulumi from "@pulumi/pulumi";
import type { OpenStackAuthArgs } from "../blazar/lease-resource";
import { makeTroveAccessProvider } from "./access-provider";

export interface TroveInstanceAccessArgs {
  /** The DBaaS's clouds.yaml entry and region. */
  readonly auth: OpenStackAuthArgs;
  readonly instanceId: pulumi.Input<string>;
  readonly instanceName: pulumi.Input<string>;
  readonly isPublic: pulumi.Input<boolean>;
  /** Every source allowed to connect; the whole list is sent on each change. */
  readonly allowedCidrs: pulumi.Input<pulumi.Input<string>[]>;
  readonly timeoutMinutes: pulumi.Input<number>;
}

export class TroveInstanceAccess extends pulumi.dynamic.Resource {
  declare readonly instanceId: pulumi.Output<string>;
  declare readonly isPublic: pulumi.Output<boolean>;
  declare readonly allowedCidrs: pulumi.Output<string[]>;
  /** The address clients connect to once the instance is public. */
  declare readonly publicAddress: pulumi.Output<string>;

  constructor(name: string, args: TroveInstanceAccessArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      makeTroveAccessProvider(),
      name,
      { ...args, publicAddress: undefined },
      { ...opts, additionalSecretOutputs: ["auth"] },
      "image-pipeline",
      "TroveInstanceAccess",
    );
  }
}
