/**
 * Object storage for the pipeline on an S3-compatible Ceph RGW (CSC Allas, Chameleon's object store, or any RGW):
 * input and output buckets, per-bucket policies for the pipeline's identity, a notification topic pushing to the
 * webhook, and the input bucket's `s3:ObjectCreated:*` notification (seeds 000 and 003).
 *
 * Ceph snapshots a topic's attributes into each bucket notification when the notification is written, and "changing
 * a topic's attributes does not take effect until the bucket notification configurations are rewritten" (seed 003).
 * So the notification carries the topic's revision in its Id and is replaced (deleted, then re-created) whenever the
 * topic's ARN, push endpoint, secret, persistence or TLS setting changes. See docs/storage.md.
 */
import * as aws from "@pulumi/aws";
import * as openstack from "@pulumi/openstack";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { StorageConfig } from "./config";
import { RgwTopic } from "./rgw/topic-resource";
import { topicRevision } from "./rgw/topic-api";

export const OBJECT_CREATED_EVENTS = ["s3:ObjectCreated:*"];

/** The validated storage settings, plus where the webhook is reachable. */
export interface PipelineStorageArgs extends StorageConfig {
  /** Where the webhook is reachable: its host name (https) or, by explicit opt-in, the floating IP (http). */
  readonly webhookHost: pulumi.Input<string>;
  readonly webhookScheme: "https" | "http";
  /**
   * Protect the buckets from deletion and replacement, and keep them (and what is in them) in the object store
   * whenever Pulumi would delete them: a rename, a `destroy`, a resource dropped from the program.
   */
  readonly protect: boolean;
}

/** The webhook URL RGW pushes notifications to. */
export function pushEndpointUrl(host: string, scheme: "https" | "http" = "https"): string {
  const bracketed = host.includes(":") ? `[${host}]` : host;
  return `${scheme}://${bracketed}/notify`;
}

/**
 * The RGW user behind Keystone EC2 credentials. With Keystone integration and implicit tenants (CSC Allas), RGW
 * names the user after the project and puts it in a tenant of the same name.
 */
export function keystoneProjectPrincipal(projectId: string): string {
  return `arn:aws:iam::${projectId}:user/${projectId}`;
}

export type BucketAccess = "read" | "write";

/**
 * Least privilege for the worker: it lists and reads the input bucket (poll reconciliation lists it) and only
 * writes objects into the output bucket. The bucket owner keeps full access regardless of the policy.
 */
export function bucketPolicyDocument(bucket: string, principal: string, access: BucketAccess): string {
  const statements =
    access === "read"
      ? [
          {
            Sid: "PipelineListInput",
            Effect: "Allow",
            Principal: { AWS: [principal] },
            Action: ["s3:ListBucket"],
            Resource: [`arn:aws:s3:::${bucket}`],
          },
          {
            Sid: "PipelineReadInput",
            Effect: "Allow",
            Principal: { AWS: [principal] },
            Action: ["s3:GetObject"],
            Resource: [`arn:aws:s3:::${bucket}/*`],
          },
        ]
      : [
          {
            Sid: "PipelineWriteOutput",
            Effect: "Allow",
            Principal: { AWS: [principal] },
            Action: ["s3:PutObject"],
            Resource: [`arn:aws:s3:::${bucket}/*`],
          },
        ];
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

/** `aws.Provider` arguments for an S3-compatible endpoint: path-style, and none of the AWS-only account checks. */
export function s3ProviderArgs(
  endpoint: string,
  region: string,
  accessKey: pulumi.Input<string>,
  secretKey: pulumi.Input<string>,
): aws.ProviderArgs {
  return {
    region,
    accessKey,
    secretKey,
    endpoints: [{ s3: endpoint, sns: endpoint }],
    s3UsePathStyle: true,
    skipCredentialsValidation: true,
    skipRequestingAccountId: true,
    skipMetadataApiCheck: true,
    skipRegionValidation: true,
  };
}

/**
 * The notification configuration's Id. It is fixed: on Ceph RGW 16 a PUT with another Id is added next to the
 * old configuration (both fire, every event twice), while a PUT with the same Id rewrites it in place.
 */
export function notificationId(topicName: string): string {
  return `${topicName}-created`;
}

export interface NotificationFilter {
  readonly keyPrefix: string;
  readonly keySuffix: string;
}

export function topicNotification(topicArn: string, id: string, filter: NotificationFilter): aws.types.input.s3.BucketNotificationTopic {
  return {
    id,
    topicArn,
    events: OBJECT_CREATED_EVENTS,
    ...(filter.keyPrefix !== "" ? { filterPrefix: filter.keyPrefix } : {}),
    ...(filter.keySuffix !== "" ? { filterSuffix: filter.keySuffix } : {}),
  };
}

export class PipelineStorage extends pulumi.ComponentResource {
  readonly endpoint: pulumi.Output<string>;
  readonly region: pulumi.Output<string>;
  readonly inputBucket: pulumi.Output<string>;
  readonly outputBucket: pulumi.Output<string>;
  readonly accessKeyId: pulumi.Output<string>;
  readonly secretAccessKey: pulumi.Output<string>;
  /** The credential the pods get: the dedicated pipeline user's when the stack names one, else the owner's above. */
  readonly workloadAccessKeyId: pulumi.Output<string>;
  readonly workloadSecretAccessKey: pulumi.Output<string>;
  /** The topic's OpaqueData: every notification carries it and the webhook rejects requests without it. */
  readonly webhookSecret: pulumi.Output<string>;
  readonly topicArn: pulumi.Output<string>;
  readonly pushEndpoint: pulumi.Output<string>;
  readonly keyPrefixFilter: string;
  readonly keySuffixFilter: string;

  constructor(name: string, args: PipelineStorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("image-pipeline:storage:PipelineStorage", name, {}, opts);

    let accessKeyId: pulumi.Output<string>;
    let secretAccessKey: pulumi.Output<string>;
    let principal: pulumi.Output<string>;
    if (args.credentials.kind === "config") {
      accessKeyId = pulumi.output(args.credentials.accessKeyId);
      secretAccessKey = pulumi.secret(args.credentials.secretAccessKey);
      principal = pulumi.output(args.pipelinePrincipal ?? "");
    } else {
      // Keystone EC2 credentials for the project: the S3 key pair of a Keystone-integrated RGW such as Allas.
      const ec2 = new openstack.identity.Ec2CredentialV3(
        `${name}-ec2-credential`,
        {},
        { parent: this, additionalSecretOutputs: ["secret"] },
      );
      accessKeyId = ec2.access;
      secretAccessKey = pulumi.secret(ec2.secret);
      principal =
        args.pipelinePrincipal !== undefined ? pulumi.output(args.pipelinePrincipal) : ec2.projectId.apply(keystoneProjectPrincipal);
    }

    const s3 = new aws.Provider(`${name}-s3`, s3ProviderArgs(args.endpoint, args.region, accessKeyId, secretAccessKey), { parent: this });
    const onS3 = { parent: this, provider: s3 };

    const data = { ...onS3, protect: args.protect, retainOnDelete: args.protect };
    const input = new aws.s3.Bucket(`${name}-input`, { bucket: args.inputBucket, forceDestroy: args.forceDestroy }, data);
    const output = new aws.s3.Bucket(`${name}-output`, { bucket: args.outputBucket, forceDestroy: args.forceDestroy }, data);
    new aws.s3.BucketPolicy(
      `${name}-input-policy`,
      { bucket: input.bucket, policy: pulumi.all([input.bucket, principal]).apply(([b, p]) => bucketPolicyDocument(b, p, "read")) },
      onS3,
    );
    new aws.s3.BucketPolicy(
      `${name}-output-policy`,
      { bucket: output.bucket, policy: pulumi.all([output.bucket, principal]).apply(([b, p]) => bucketPolicyDocument(b, p, "write")) },
      onS3,
    );

    // Letters and digits only: RGW stores OpaqueData unescaped in an &-separated argument string.
    const webhookSecret = new random.RandomPassword(`${name}-webhook-secret`, { length: 48, special: false }, { parent: this });

    const pushEndpoint = pulumi.output(args.webhookHost).apply((host) => pushEndpointUrl(host, args.webhookScheme));
    const topic = new RgwTopic(
      `${name}-topic`,
      {
        endpoint: args.endpoint,
        region: args.region,
        accessKeyId,
        secretAccessKey,
        name: args.topicName,
        pushEndpoint,
        opaqueData: pulumi.secret(webhookSecret.result),
        persistent: true,
        verifySsl: args.verifySsl,
      },
      { parent: this },
    );

    // Computed here from the topic's inputs and ARN rather than read from the topic's `revision` output, so the
    // Id is known in previews. The digest of a 48-character random secret reveals nothing about it, so the Id is
    // deliberately not secret: a secret Id would hide the whole notification configuration in diffs.
    const revision = pulumi.unsecret(
      pulumi
        .all([topic.arn, pushEndpoint, webhookSecret.result])
        .apply(([arn, push, secret]) =>
          topicRevision({ arn, name: args.topicName, pushEndpoint: push, opaqueData: secret, persistent: true, verifySsl: args.verifySsl }),
        ),
    );
    new aws.s3.BucketNotification(
      `${name}-input-notification`,
      {
        bucket: input.bucket,
        topics: [topic.arn.apply((arn) => topicNotification(arn, notificationId(args.topicName), args))],
      },
      // Ceph copies a topic's endpoint and secret into a notification when the notification is written, so a
      // changed topic must be followed by a rewrite. The revision triggers a replacement that creates first: the
      // new PUT carries the same Id and overwrites the old configuration in place. The old one is then retained
      // rather than deleted, because the provider's delete sends an empty configuration, which RGW 16 refuses
      // (400 MalformedXML); deleting it would also remove the one just written (same Id).
      { ...onS3, dependsOn: [topic], replacementTrigger: revision, deleteBeforeReplace: false, retainOnDelete: true },
    );

    this.endpoint = pulumi.output(args.endpoint);
    this.region = pulumi.output(args.region);
    this.inputBucket = input.bucket;
    this.outputBucket = output.bucket;
    this.accessKeyId = accessKeyId;
    this.secretAccessKey = secretAccessKey;
    this.workloadAccessKeyId = args.pipelineCredential ? pulumi.output(args.pipelineCredential.accessKeyId) : accessKeyId;
    this.workloadSecretAccessKey = args.pipelineCredential ? pulumi.secret(args.pipelineCredential.secretAccessKey) : secretAccessKey;
    this.webhookSecret = pulumi.secret(webhookSecret.result);
    this.topicArn = topic.arn;
    this.pushEndpoint = pushEndpoint;
    this.keyPrefixFilter = args.keyPrefix;
    this.keySuffixFilter = args.keySuffix;
    this.registerOutputs({
      endpoint: this.endpoint,
      region: this.region,
      inputBucket: this.inputBucket,
      outputBucket: this.outputBucket,
      topicArn: this.topicArn,
      pushEndpoint: this.pushEndpoint,
    });
  }
}
