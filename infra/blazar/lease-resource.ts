/**
 * The Blazar lease as a Pulumi resource: the inputs a program gives and the outputs it reads. The provider
 * (lease-provider.ts) does the work through the Blazar API client (lease-api.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import type { OpenStackAuthInputs } from "../openstack-api/credentials";
import { makeLeaseProvider } from "./lease-provider";

/** Each field may be an Output (for example a secret from config); Pulumi resolves nested inputs. */
export type OpenStackAuthArgs = { readonly [K in keyof OpenStackAuthInputs]?: pulumi.Input<OpenStackAuthInputs[K]> };

export type ReservationArgs =
  | { readonly type: "flavor:instance"; readonly flavorId: pulumi.Input<string>; readonly amount: number }
  | { readonly type: "physical:host"; readonly count: number; readonly resourceProperties: string };

export interface BlazarLeaseArgs {
  readonly auth: OpenStackAuthArgs;
  readonly name: pulumi.Input<string>;
  readonly reservation: ReservationArgs;
  readonly start: pulumi.Input<string>;
  readonly endDate?: pulumi.Input<string>;
  readonly durationHours?: pulumi.Input<number>;
  readonly timeoutMinutes: pulumi.Input<number>;
}

export class BlazarLease extends pulumi.dynamic.Resource {
  declare readonly leaseId: pulumi.Output<string>;
  declare readonly reservationId: pulumi.Output<string>;
  declare readonly status: pulumi.Output<string>;
  declare readonly leaseEndDate: pulumi.Output<string>;
  declare readonly reservedFlavorId: pulumi.Output<string | undefined>;

  constructor(name: string, args: BlazarLeaseArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      makeLeaseProvider(),
      name,
      {
        ...args,
        leaseId: undefined,
        reservationId: undefined,
        status: undefined,
        startDate: undefined,
        leaseEndDate: undefined,
        reservedFlavorId: undefined,
      },
      { ...opts, additionalSecretOutputs: ["auth"] },
      "image-pipeline",
      "BlazarLease",
    );
  }
}
