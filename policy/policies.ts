/** The pack's policies, importable without starting the policy server (tests, the offline evaluation). */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { adminPortsPolicy } from "./openstack/adminPorts";
import { databaseNetworkPolicy } from "./openstack/databaseNetwork";
import { portSecurityPolicy } from "./openstack/portSecurity";
import { publicDatabasePolicy } from "./openstack/public-database";
import { containerLimitsPolicy } from "./kubernetes/container-limits";
import { defaultDenyPolicy } from "./kubernetes/default-deny";
import { deploymentAutoscalersPolicy } from "./kubernetes/deployment-autoscalers";
import { deploymentReplicasPolicy } from "./kubernetes/deployment-replicas";
import { hpaMinReplicasPolicy } from "./kubernetes/hpaMinReplicas";
import { imageDigestsPolicy } from "./kubernetes/image-digests";
import { restrictedPodsPolicy } from "./kubernetes/restrictedPods";
import { serviceAccountTokensPolicy } from "./kubernetes/service-account-tokens";
import { serviceExposurePolicy } from "./kubernetes/service-exposure";
import { plaintextSecretsPolicy } from "./secrets/plaintextSecrets";
import { publicBucketsPolicy } from "./storage/public-buckets";
import { webhookHttpsPolicy } from "./storage/webhook-https";

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
  publicDatabasePolicy,
  restrictedPodsPolicy,
  containerLimitsPolicy,
  imageDigestsPolicy,
  serviceAccountTokensPolicy,
  serviceExposurePolicy,
  defaultDenyPolicy,
  hpaMinReplicasPolicy,
  deploymentAutoscalersPolicy,
  deploymentReplicasPolicy,
  plaintextSecretsPolicy,
  publicBucketsPolicy,
  webhookHttpsPolicy,
];
