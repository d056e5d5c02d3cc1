/**
 * The N compute instances `<prefix>1..N` (node1 is the k3s server), each on its external port and its private port,
 * booted from the configured image, optionally on a Blazar reservation.
 */
import * as openstack from "@pulumi/openstack";
import * as pulumi from "@pulumi/pulumi";
import type { NodeBootImage } from "./node-image/node-image";

/** How the nodes get their flavor and host: plainly, from a flavor:instance lease, or on physical:host reserved hosts. */
export type NodePlacement =
  | { readonly kind: "flavor"; readonly flavorName: string }
  | { readonly kind: "reserved-flavor"; readonly flavorId: pulumi.Input<string> }
  | { readonly kind: "reserved-hosts"; readonly flavorName: string; readonly reservationId: pulumi.Input<string> };

export interface ClusterNodesArgs {
  readonly namePrefix: string;
  readonly image: NodeBootImage;
  readonly placement: NodePlacement;
  readonly externalPortIds: pulumi.Input<string>[];
  readonly privatePortIds: pulumi.Input<string>[];
  /** One per node, node1 (the Kubernetes server) first. */
  readonly userData: pulumi.Input<string>[];
  readonly keypairName?: string;
  readonly sshPublicKey?: string;
  readonly resourcePrefix: string;
  readonly availabilityZone?: string;
}

export function nodeNames(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`);
}

export function placementArgs(
  placement: NodePlacement,
): Pick<openstack.compute.InstanceArgs, "flavorId" | "flavorName" | "schedulerHints"> {
  switch (placement.kind) {
    case "flavor":
      return { flavorName: placement.flavorName };
    case "reserved-flavor":
      return { flavorId: placement.flavorId };
    case "reserved-hosts":
      // Bare-metal reservations are honoured by Nova's BlazarFilter through this scheduler hint.
      return { flavorName: placement.flavorName, schedulerHints: [{ additionalProperties: { reservation: placement.reservationId } }] };
  }
}

export class ClusterNodes extends pulumi.ComponentResource {
  readonly instances: openstack.compute.Instance[];
  readonly names: string[];
  readonly instanceIds: pulumi.Output<string>[];

  constructor(name: string, args: ClusterNodesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("image-pipeline:nodes:ClusterNodes", name, {}, opts);
    const count = args.externalPortIds.length;
    if (args.privatePortIds.length !== count || args.userData.length !== count) {
      throw new Error(
        `ClusterNodes ${name}: ${count} external ports, ${args.privatePortIds.length} private ports and ${args.userData.length} user-data documents; they must match`,
      );
    }

    let keyPair: pulumi.Input<string> | undefined = args.keypairName;
    if (args.sshPublicKey !== undefined) {
      keyPair = new openstack.compute.Keypair(
        `${name}-keypair`,
        { name: `${args.resourcePrefix}-key`, publicKey: args.sshPublicKey },
        { parent: this },
      ).name;
    }

    this.names = nodeNames(args.namePrefix, count);
    this.instances = this.names.map(
      (nodeName, i) =>
        new openstack.compute.Instance(
          `${name}-${nodeName}`,
          {
            name: nodeName,
            ...(args.image.kind === "name" ? { imageName: args.image.name } : { imageId: args.image.id }),
            ...placementArgs(args.placement),
            keyPair,
            availabilityZone: args.availabilityZone,
            // External first: it carries the default route, as `openstack server create --network sharednet1 --port ...` does.
            networks: [{ port: args.externalPortIds[i] }, { port: args.privatePortIds[i] }],
            userData: args.userData[i],
            metadata: { "image-pipeline/role": i === 0 ? "server" : "agent" },
          },
          {
            parent: this,
            // A template edit must never silently replace a running node: user data is applied at first boot only.
            // A node replaced for another reason is created with the program's current inputs, user data included.
            ignoreChanges: ["userData"],
            // The provider would rebuild a node for a new image (same instance id, a wiped disk, first-boot user
            // data run again): neither the readiness gate nor the cluster's identity would notice. A reserved
            // flavor only changes with a new lease, whose deletion ends the old instances. Both replace instead.
            replaceOnChanges: ["imageName", "imageId", "flavorId"],
            // The replacement takes over the same two ports (and, on a lease, the same reserved capacity), which
            // the old instance must release first.
            deleteBeforeReplace: true,
          },
        ),
    );
    this.instanceIds = this.instances.map((instance) => instance.id);
    this.registerOutputs({ instanceIds: this.instanceIds });
  }
}
