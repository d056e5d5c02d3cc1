/**
 * The Trove instance holds the event log and must only be reachable on the stack's private network (never
 * `openstack database instance create --is-public`). A resource policy cannot tell which network id is private, so this is a
 * stack policy: every network the instance attaches to (by `uuid`, or by `port`) must be a network this stack
 * declares without `external: true`. Networks looked up by name (the provider's shared or public network) are
 * not declared here, so attaching to one is a violation.
 *
 * An external DBaaS (CSC Pukki) is the exception: its instances are reached over the Internet and attach to the
 * DBaaS's own network, which no stack declares. Such an instance names no network and is governed by a
 * `TroveInstanceAccess` (its allowed-CIDR list), which `no-open-public-database` checks instead.
 *
 * During `pulumi preview` of a new stack the private network's id is not known yet; the engine then reports
 * this policy as not runnable (advisory) and enforces it at `pulumi up`, when ids exist.
 */
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { DYNAMIC, OPENSTACK } from "../resourceTypes";
import { records, type Props } from "../values";

export const DATABASE_NETWORK_POLICY = "database-on-private-network-only";

export interface StackResourceView {
  readonly type: string;
  readonly name: string;
  /** Resource outputs as the engine presents them to stack policies (including `id`). */
  readonly props: Props;
}

export function databaseNetworkViolations(resources: readonly StackResourceView[]): { resource: string; message: string }[] {
  const privateNetworks = new Set(
    resources
      .filter((r) => r.type === OPENSTACK.network && r.props.external !== true && typeof r.props.id === "string")
      .map((r) => r.props.id as string),
  );
  const portNetworks = new Map(
    resources
      .filter((r) => r.type === OPENSTACK.port && typeof r.props.id === "string")
      .map((r) => [r.props.id as string, r.props.networkId]),
  );
  const governedByAccess = new Set(
    resources
      .filter((r) => r.type === DYNAMIC.troveInstanceAccess && typeof r.props.instanceId === "string")
      .map((r) => r.props.instanceId),
  );
  const violations: { resource: string; message: string }[] = [];
  for (const db of resources.filter((r) => r.type === OPENSTACK.databaseInstance)) {
    const networks = records(db.props.networks);
    const report = (message: string) => violations.push({ resource: db.name, message });
    if (networks.length === 0 && governedByAccess.has(db.props.id)) continue;
    if (networks.length === 0) {
      report(
        "database instance names no network, so Trove attaches its default (possibly public) network. Fix: networks: [{ uuid: <private network id> }]",
      );
      continue;
    }
    networks.forEach((network, i) => {
      if (typeof network.uuid === "string" && network.uuid !== "") {
        if (!privateNetworks.has(network.uuid)) {
          report(
            `networks[${i}].uuid ${network.uuid} is not a private network declared in this stack. Fix: attach the database to the private network (PipelineNetwork.privateNetworkId) only`,
          );
        }
      } else if (typeof network.port === "string" && network.port !== "") {
        const networkId = portNetworks.get(network.port);
        if (typeof networkId !== "string" || !privateNetworks.has(networkId)) {
          report(
            `networks[${i}].port ${network.port} is not a port on a private network declared in this stack. Fix: attach the database to the private network only`,
          );
        }
      } else {
        report(`networks[${i}] names neither uuid nor port. Fix: networks: [{ uuid: <private network id> }]`);
      }
    });
  }
  return violations;
}

export const databaseNetworkPolicy: StackValidationPolicy = {
  name: DATABASE_NETWORK_POLICY,
  description: "The database instance is attached only to private networks this stack declares, never to the external network.",
  severity: "critical",
  validateStack: (args, reportViolation) => {
    const view = args.resources.map((r: PolicyResource) => ({ type: r.type, name: r.name, props: r.props }));
    const byName = new Map(args.resources.map((r: PolicyResource) => [r.name, r.urn]));
    for (const v of databaseNetworkViolations(view)) reportViolation(v.message, byName.get(v.resource));
  },
};
