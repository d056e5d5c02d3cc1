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

/** The program's own dynamic resources, as `pulumi-nodejs:dynamic/<module>:<Type>`. */
export const DYNAMIC = {
  troveInstanceAccess: "pulumi-nodejs:dynamic/image-pipeline:TroveInstanceAccess",
  rgwTopic: "pulumi-nodejs:dynamic/image-pipeline:RgwTopic",
} as const;

export const KUBERNETES = {
  pod: "kubernetes:core/v1:Pod",
  replicationController: "kubernetes:core/v1:ReplicationController",
  configMap: "kubernetes:core/v1:ConfigMap",
  service: "kubernetes:core/v1:Service",
  secret: "kubernetes:core/v1:Secret",
  serviceAccount: "kubernetes:core/v1:ServiceAccount",
  networkPolicy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  deployment: "kubernetes:apps/v1:Deployment",
  statefulSet: "kubernetes:apps/v1:StatefulSet",
  daemonSet: "kubernetes:apps/v1:DaemonSet",
  replicaSet: "kubernetes:apps/v1:ReplicaSet",
  job: "kubernetes:batch/v1:Job",
  cronJob: "kubernetes:batch/v1:CronJob",
  hpaV2: "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
  hpaV1: "kubernetes:autoscaling/v1:HorizontalPodAutoscaler",
  /** KEDA's ScaledObject: KEDA makes the HPA from it (workerScaling: queue-depth). */
  scaledObject: "kubernetes:keda.sh/v1alpha1:ScaledObject",
} as const;

export const AWS_S3 = {
  bucket: "aws:s3/bucket:Bucket",
  bucketV2: "aws:s3/bucketV2:BucketV2",
  bucketAcl: "aws:s3/bucketAcl:BucketAcl",
  bucketAclV2: "aws:s3/bucketAclV2:BucketAclV2",
  bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
  bucketObject: "aws:s3/bucketObject:BucketObject",
  bucketObjectV2: "aws:s3/bucketObjectv2:BucketObjectv2",
} as const;

export function isKubernetesType(type: string): boolean {
  return type.startsWith("kubernetes:");
}
