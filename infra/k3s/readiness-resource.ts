/**
 * The readiness gate as a Pulumi resource: creating it blocks `pulumi up` until the cluster answers and every
 * node is Ready. The provider (readiness-provider.ts) polls through the API client (readiness-api.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_POLL_INTERVAL_SECONDS, k3sReadinessProvider } from "./readiness-provider";

export interface K3sReadinessArgs {
  readonly server: pulumi.Input<string>;
  readonly caPem: pulumi.Input<string>;
  readonly clientCertPem: pulumi.Input<string>;
  readonly clientKeyPem: pulumi.Input<string>;
  readonly expectedNodes: pulumi.Input<number>;
  readonly timeoutSeconds: pulumi.Input<number>;
  readonly pollIntervalSeconds?: pulumi.Input<number>;
  /** The instances behind the nodes: a replaced instance makes the gate wait again. */
  readonly nodeIds: pulumi.Input<pulumi.Input<string>[]>;
}

/** Plain inputs as the provider receives them. */
export class K3sReadiness extends pulumi.dynamic.Resource {
  declare readonly readyNodes: pulumi.Output<string[]>;
  declare readonly server: pulumi.Output<string>;

  constructor(name: string, args: K3sReadinessArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      k3sReadinessProvider,
      name,
      {
        ...args,
        clientKeyPem: pulumi.secret(args.clientKeyPem),
        pollIntervalSeconds: args.pollIntervalSeconds ?? DEFAULT_POLL_INTERVAL_SECONDS,
        readyNodes: undefined,
        caSha256: undefined,
        clientCertSha256: undefined,
      },
      opts,
      "image-pipeline",
      "K3sReadiness",
    );
  }
}
