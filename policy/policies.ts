/** The pack's policies, importable without starting the policy server (tests, the offline evaluation). */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { adminPortsPolicy } from "./openstack/adminPorts";
import { databaseNetworkPolicy } from "./openstack/databaseNetwork";
import { portSecurityPolicy } from "./openstack/portSecurity";
import { hpaMinReplicasPolicy } from "./kubernetes/hpaMinReplicas";
import { restrictedPodsPolicy } from "./kubernetes/restrictedPods";
import { plaintextSecretsPolicy } from "./secrets/plaintextSecrets";

export const POLICY_PACK_NAME = "image-pipeline";

/**
 * Mandatory unless a stack's pack config lowers it: `policy/config/dev.json` makes everything advisory in dev,
 * `policy/config/prod.json` keeps prod mandatory.
 */
export const DEFAULT_ENFORCEMENT = "mandatory" as const;

export const policies: (ResourceValidationPolicy | StackValidationPolicy)[] = [
  portSecurityPolicy,
  adminPortsPolicy,
  databaseNetworkPolicy,
  restrictedPodsPolicy,
  hpaMinReplicasPolicy,
  plaintextSecretsPolicy,
];
