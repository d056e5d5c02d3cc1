/**
 * The whole pipeline, declared from a validated `StackConfig`. `index.ts` calls this with the stack's config;
 * the offline plan and the tests call it under Pulumi's mocks.
 */
import * as openstack from "@pulumi/openstack";
import type { StackConfig } from "./config";
import { BlazarLease } from "./lease";
import { PipelineNetwork } from "./network";
import { ClusterNodes, NodePlacement } from "./nodes";
import { minimalUserData } from "./cloudConfig";
import { createOpenStackProvider } from "./openstackProvider";

export function imagePipeline(cfg: StackConfig) {
  const provider = createOpenStackProvider("openstack", cfg.openstack);
  const withProvider = { providers: [provider] };

  const network = new PipelineNetwork(
    "network",
    {
      resourcePrefix: cfg.resourcePrefix,
      cidr: cfg.network.cidr,
      privateIps: cfg.network.privateIps,
      dnsNameservers: cfg.network.dnsNameservers,
      externalNetwork: cfg.network.externalNetwork,
      floatingIpPool: cfg.network.floatingIpPool,
      adminCidr: cfg.network.adminCidr,
    },
    withProvider,
  );

  let placement: NodePlacement = { kind: "flavor", flavorName: cfg.nodes.flavor };
  let lease: BlazarLease | undefined;
  if (cfg.lease) {
    const reservation =
      cfg.lease.type === "flavor:instance"
        ? { type: "flavor:instance" as const, flavorId: openstack.compute.getFlavorOutput({ name: cfg.nodes.flavor }, { provider }).id, amount: cfg.nodes.count }
        : { type: "physical:host" as const, count: cfg.nodes.count, resourceProperties: cfg.lease.resourceProperties };
    lease = new BlazarLease("lease", {
      auth: {
        cloud: cfg.openstack.cloud,
        region: cfg.openstack.region,
        authUrl: cfg.openstack.authUrl,
        applicationCredentialId: cfg.openstack.applicationCredentialId,
        applicationCredentialSecret: cfg.openstack.applicationCredentialSecret,
      },
      name: cfg.lease.name,
      reservation,
      start: cfg.lease.start,
      endDate: cfg.lease.end.kind === "absolute" ? cfg.lease.end.date : undefined,
      durationHours: cfg.lease.end.kind === "duration" ? cfg.lease.end.hours : undefined,
      timeoutMinutes: cfg.lease.timeoutMinutes,
    });
    placement =
      cfg.lease.type === "flavor:instance"
        ? { kind: "reserved-flavor", flavorId: lease.reservedFlavorId.apply((id) => id ?? "") }
        : { kind: "reserved-hosts", flavorName: cfg.nodes.flavor, reservationId: lease.reservationId };
  }

  const userData = cfg.network.privateIps.map(() => minimalUserData());

  const nodes = new ClusterNodes(
    "nodes",
    {
      namePrefix: cfg.nodes.namePrefix,
      image: cfg.nodes.image,
      placement,
      externalPortIds: network.externalPortIds,
      privatePortIds: network.privatePortIds,
      userData,
      keypairName: cfg.nodes.keypairName,
      sshPublicKey: cfg.nodes.sshPublicKey,
      resourcePrefix: cfg.resourcePrefix,
      availabilityZone: cfg.nodes.availabilityZone,
    },
    { ...withProvider, dependsOn: lease ? [lease] : [] },
  );

  return {
    floatingIp: network.floatingIpAddress,
    privateNetworkId: network.privateNetworkId,
    nodeNames: nodes.names,
    leaseId: lease?.leaseId,
    leaseEndDate: lease?.leaseEndDate,
  };
}

export type PipelineOutputs = ReturnType<typeof imagePipeline>;
