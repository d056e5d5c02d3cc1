/**
 * Resource type tokens exactly as the Pulumi engine hands them to a policy pack (`args.type`). Policies match on
 * these strings rather than on SDK classes so the pack loads without the provider SDKs and reads the same way as
 * `pulumi preview` output and the offline plan.
 */
export const OPENSTACK = {
  port: "openstack:networking/port:Port",
  network: "openstack:networking/network:Network",
  secGroupRule: "openstack:networking/secGroupRule:SecGroupRule",
  computeInstance: "openstack:compute/instance:Instance",
  databaseInstance: "openstack:database/instance:Instance",
} as const;

export const KUBERNETES = {
  pod: "kubernetes:core/v1:Pod",
  replicationController: "kubernetes:core/v1:ReplicationController",
  configMap: "kubernetes:core/v1:ConfigMap",
  service: "kubernetes:core/v1:Service",
  secret: "kubernetes:core/v1:Secret",
  deployment: "kubernetes:apps/v1:Deployment",
  statefulSet: "kubernetes:apps/v1:StatefulSet",
  daemonSet: "kubernetes:apps/v1:DaemonSet",
  replicaSet: "kubernetes:apps/v1:ReplicaSet",
  job: "kubernetes:batch/v1:Job",
  cronJob: "kubernetes:batch/v1:CronJob",
  hpaV2: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
  hpaV1: "kubernetes:autoscaling/v1:HorizontalPodAutoscaler",
} as const;

export function isKubernetesType(type: string): boolean {
  return type.startsWith("kubernetes:");
}
