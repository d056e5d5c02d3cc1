/**
 * Nothing is published on the nodes' addresses except through the ingress. A NodePort Service opens a port in
 * 30000-32767 on every node, and a LoadBalancer Service does the same and, on k3s, has ServiceLB bind the port on
 * every node's address; either bypasses the Ingress, which publishes only /notify.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { KUBERNETES } from "../resourceTypes";
import { field, type Props } from "../values";

export const SERVICE_EXPOSURE_POLICY = "no-node-port-or-load-balancer-services";

export function serviceExposureViolations(props: Props): string[] {
  const type = field(props, "spec", "type");
  if (type !== "NodePort" && type !== "LoadBalancer") return [];
  return [
    `Service type ${type} publishes the service on every node's address, past the Ingress. Fix: type ClusterIP, reached through the Ingress`,
  ];
}

export const serviceExposurePolicy: ResourceValidationPolicy = {
  name: SERVICE_EXPOSURE_POLICY,
  description: "No Service of type NodePort or LoadBalancer: traffic from outside enters through the Ingress only.",
  severity: "high",
  validateResource: (args, reportViolation) => {
    if (args.type !== KUBERNETES.service) return;
    for (const message of serviceExposureViolations(args.props)) reportViolation(message);
  },
};
