/**
 * A Neutron port with port security disabled cannot carry security groups (Neutron refuses the combination), and
 * a port that lists none without `noSecurityGroups: true` "yields to the default behaviour of the Networking
 * service, which is to usually apply the default security group" (openstack_networking_port_v2 docs). The
 * nodes' private ports (fixed addresses .11-.13 on the gateway-less network) rely on port security being off, so
 * both must hold.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { OPENSTACK } from "../resourceTypes";
import { strings, type Props } from "../values";

export const PORT_SECURITY_POLICY = "port-security-off-without-security-groups";

export function portSecurityViolations(props: Props): string[] {
  if (props.portSecurityEnabled !== false) return [];
  const problems: string[] = [];
  const groups = strings(props.securityGroupIds);
  if (groups.length > 0) {
    problems.push(
      `port has port security disabled but lists security groups [${groups.join(", ")}]; Neutron rejects that. Fix: remove securityGroupIds, or enable port security`,
    );
  }
  if (props.noSecurityGroups !== true) {
    problems.push(
      "port has port security disabled without noSecurityGroups: true, so Neutron may attach the project's default security group. Fix: set noSecurityGroups: true",
    );
  }
  return problems;
}

export const portSecurityPolicy: ResourceValidationPolicy = {
  name: PORT_SECURITY_POLICY,
  description: "Ports with port security off carry no security groups (noSecurityGroups: true, no securityGroupIds).",
  severity: "medium",
  validateResource: (args, reportViolation) => {
    if (args.type !== OPENSTACK.port) return;
    for (const message of portSecurityViolations(args.props)) reportViolation(message);
  },
};
