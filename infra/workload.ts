/**
 * The pipeline on the cluster: applies the objects of the `k8s/` builders with @pulumi/kubernetes, one typed
 * resource per object (so plans and diffs show `kubernetes:apps/v1:Deployment`, not an opaque YAML blob), on the
 * k3s provider, after the cluster's readiness gate.
 *
 * Which objects exist is decided by the settings alone, so every resource is declared up front with a fixed name;
 * values that other components produce (bucket names, endpoints, credentials, the promoted image) flow in as
 * outputs. Secret values only ever reach the Secret objects; pods see them through `envFrom`, and a checksum
 * annotation (not secret) rolls the pods when they change.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  buildPipelineObjects,
  buildPipelineSecrets,
  buildUnboundPipelineObjects,
  imageDigest,
  migrationJobName,
  objectNames,
  pipelineObjectCatalog,
  secretsChecksum,
  appRoleChecksum,
  type CatalogEntry,
  type KubernetesObject,
  type PipelineBindings,
  type PipelineSecretValues,
  type PipelineWorkloadSettings,
} from "../k8s";
import { MIGRATION_DEADLINE_SECONDS } from "../k8s/migration";
import { buildTraefikHelmChartConfig } from "../k8s/traefik";

export interface PipelineWorkloadArgs {
  readonly settings: PipelineWorkloadSettings;
  /** Kubernetes provider of the cluster (k3s), itself gated on the cluster's readiness. */
  readonly provider: k8s.Provider;
  /** The readiness gate; every object also depends on it directly so the ordering survives provider changes. */
  readonly clusterReady?: pulumi.Resource;
  /** Digest-pinned worker image reference, from the stack's own config. */
  readonly image: pulumi.Input<string>;
  /**
   * Protect the in-cluster PostgreSQL's data: its StatefulSet and the namespace, whose deletion would delete the
   * volume claim and, on k3s's local-path storage, the data with it.
   */
  readonly protectData?: boolean;
  readonly storage: {
    readonly endpoint: pulumi.Input<string>;
    readonly region: pulumi.Input<string>;
    readonly inputBucket: pulumi.Input<string>;
    readonly outputBucket: pulumi.Input<string>;
    readonly accessKeyId: pulumi.Input<string>;
    readonly secretAccessKey: pulumi.Input<string>;
    /** The notification topic's OpaqueData. */
    readonly webhookSecret: pulumi.Input<string>;
  };
  readonly database: {
    readonly connectionString: pulumi.Input<string>;
    /** The services' role's password (in `connectionString`); the migration sets it with the in-cluster PostgreSQL. */
    readonly password?: pulumi.Input<string>;
    /** The in-cluster PostgreSQL's superuser: its password (POSTGRES_PASSWORD) and URL, for the migration Job only. */
    readonly admin?: { readonly password: pulumi.Input<string>; readonly connectionString: pulumi.Input<string> };
    /** `<host>:<port>/<database>`, no credentials: a different one re-runs the migrations (see k8s/migration.ts). */
    readonly target: pulumi.Input<string>;
  };
  /** The KEDA install, when the program makes it: the ScaledObject and its TriggerAuthentication wait for it. */
  readonly autoscalerReady?: pulumi.Resource;
  /** Login for the worker image's registry (secret); required when settings.registry is set. */
  readonly registry?: { readonly username: pulumi.Input<string>; readonly password: pulumi.Input<string> };
}

type Declared = pulumi.CustomResource;

/** Catalog ids of the objects whose deletion loses the in-cluster PostgreSQL's data. */
export const PROTECTED_WITH_DATA: readonly string[] = ["namespace", "postgres"];

function declare(name: string, entry: CatalogEntry, object: pulumi.Output<KubernetesObject>, opts: pulumi.CustomResourceOptions): Declared {
  // Each field is passed as its own output so a change in one shows up as a change of that field in the diff.
  // The builders produce objects of exactly these API types; the casts only bridge kubernetes-models' and
  // @pulumi/kubernetes' type declarations of the same OpenAPI schema.
  /* eslint-disable @typescript-eslint/no-explicit-any */
  const o = object as pulumi.Output<any>;
  const metadata = o.apply((v) => v.metadata);
  const spec = o.apply((v) => v.spec);
  switch (entry.kind) {
    case "Namespace":
      return new k8s.core.v1.Namespace(name, { metadata }, opts);
    case "ServiceAccount":
      return new k8s.core.v1.ServiceAccount(
        name,
        {
          metadata,
          automountServiceAccountToken: o.apply((v) => v.automountServiceAccountToken),
          imagePullSecrets: o.apply((v) => v.imagePullSecrets),
        },
        opts,
      );
    case "Secret":
      // Metadata and type are not secret; the provider keeps stringData secret as a whole.
      return new k8s.core.v1.Secret(
        name,
        { metadata: pulumi.unsecret(metadata), type: pulumi.unsecret(o.apply((v) => v.type)), stringData: o.apply((v) => v.stringData) },
        opts,
      );
    case "ConfigMap":
      return new k8s.core.v1.ConfigMap(name, { metadata, data: o.apply((v) => v.data) }, opts);
    case "Service":
      return new k8s.core.v1.Service(name, { metadata, spec }, opts);
    case "NetworkPolicy":
      return new k8s.networking.v1.NetworkPolicy(name, { metadata, spec }, opts);
    case "Ingress":
      return new k8s.networking.v1.Ingress(name, { metadata, spec }, opts);
    case "StatefulSet":
      return new k8s.apps.v1.StatefulSet(name, { metadata, spec }, opts);
    case "Deployment":
      return new k8s.apps.v1.Deployment(name, { metadata, spec }, opts);
    case "Job":
      // Pulumi waits for the Job to complete; allow the Job's own deadline plus scheduling and image pull.
      return new k8s.batch.v1.Job(
        name,
        { metadata, spec },
        { ...opts, customTimeouts: { create: `${MIGRATION_DEADLINE_SECONDS + 300}s`, update: `${MIGRATION_DEADLINE_SECONDS + 300}s` } },
      );
    case "HorizontalPodAutoscaler":
      return new k8s.autoscaling.v2.HorizontalPodAutoscaler(name, { metadata, spec }, opts);
    case "PodDisruptionBudget":
      return new k8s.policy.v1.PodDisruptionBudget(name, { metadata, spec }, opts);
    case "PrometheusRule":
    case "ScaledObject":
    case "TriggerAuthentication":
      // Custom resources: no typed class in @pulumi/kubernetes; their CRDs must exist (alertRules says so for the
      // PrometheusRule; KEDA's are installed by the program or, with kedaInstall false, already on the cluster).
      return new k8s.apiextensions.CustomResource(name, { apiVersion: entry.apiVersion, kind: entry.kind, metadata, spec }, opts);
  }
  /* eslint-enable @typescript-eslint/no-explicit-any */
}

export class PipelineWorkload extends pulumi.ComponentResource {
  /** Every declared object, by catalog id (see `pipelineObjectCatalog`). */
  readonly resources: Readonly<Record<string, Declared>>;
  readonly namespace: pulumi.Output<string>;
  /** The image reference the pods run, and its digest (`sha256:...`). */
  readonly image: pulumi.Output<string>;
  readonly imageDigest: pulumi.Output<string>;
  readonly workerDeploymentName: pulumi.Output<string>;
  readonly workerAutoscalerName: pulumi.Output<string>;
  readonly migrationJobName: pulumi.Output<string>;

  constructor(name: string, args: PipelineWorkloadArgs, opts?: pulumi.ComponentResourceOptions) {
    super("image-pipeline:workload:PipelineWorkload", name, {}, opts);
    const { settings } = args;
    const inCluster = settings.database.kind === "in-cluster";
    if (settings.registry && args.registry === undefined) {
      throw new Error(`PipelineWorkload: registry credentials are required to pull from ${settings.registry.server}`);
    }
    if (inCluster && (args.database.password === undefined || args.database.admin === undefined)) {
      throw new Error(
        "PipelineWorkload: database.password and database.admin are required for an in-cluster database (the database component's RandomPasswords)",
      );
    }

    const image = pulumi.output(args.image).apply((ref) => {
      imageDigest(ref); // throws with the fix when the reference is not pinned
      return ref;
    });
    // In-cluster: the superuser's URL for the migration Job, and the services' role password it sets.
    const migration = pulumi
      .all([inCluster ? args.database.admin?.connectionString : undefined, inCluster ? args.database.password : undefined])
      .apply(([adminUrl, appRolePassword]) =>
        adminUrl !== undefined && appRolePassword !== undefined ? { databaseUrl: adminUrl, appRolePassword } : undefined,
      );
    const secretValues: pulumi.Output<PipelineSecretValues> = pulumi.secret(
      pulumi
        .all([
          args.database.connectionString,
          args.storage.accessKeyId,
          args.storage.secretAccessKey,
          args.storage.webhookSecret,
          inCluster ? args.database.admin?.password : undefined,
          args.registry?.username,
          args.registry?.password,
          migration,
        ])
        .apply(
          ([databaseUrl, s3AccessKeyId, s3SecretAccessKey, webhookSecret, postgresPassword, registryUsername, registryPassword, m]) => ({
            databaseUrl,
            s3AccessKeyId,
            s3SecretAccessKey,
            webhookSecret,
            postgresPassword,
            migration: m,
            registry:
              registryUsername !== undefined && registryPassword !== undefined
                ? { username: registryUsername, password: registryPassword }
                : undefined,
          }),
        ),
    );
    // A salted hash of random or credential values: it reveals only that they changed, so it need not be secret.
    const checksum = pulumi.unsecret(secretValues.apply(secretsChecksum));
    const roleChecksum = pulumi.unsecret(
      secretValues.apply((v) => (v.migration ? appRoleChecksum(v.migration.appRolePassword) : undefined)),
    );
    const bindings: pulumi.Output<PipelineBindings> = pulumi
      .all([
        image,
        args.storage.endpoint,
        args.storage.region,
        args.storage.inputBucket,
        args.storage.outputBucket,
        checksum,
        args.database.target,
        roleChecksum,
      ])
      .apply(([imageRef, s3Endpoint, s3Region, inputBucket, outputBucket, secretsChecksumValue, databaseTarget, appRoleChecksumValue]) => ({
        image: imageRef,
        s3Endpoint,
        s3Region,
        inputBucket,
        outputBucket,
        secretsChecksum: secretsChecksumValue,
        databaseTarget,
        appRoleChecksum: appRoleChecksumValue,
      }));
    const objects = bindings.apply((b) => buildPipelineObjects(settings, b));
    // Objects that need no bindings are passed as known values, so a preview shows them in full even while
    // buckets or credentials are still unknown.
    const unbound = buildUnboundPipelineObjects(settings);
    const secrets = secretValues.apply((v) => buildPipelineSecrets(settings, v));

    const resources: Record<string, Declared> = {};
    for (const entry of pipelineObjectCatalog(settings)) {
      const object: pulumi.Output<KubernetesObject> = entry.secret
        ? secrets.apply((s) => s[entry.id])
        : entry.bound
          ? objects.apply((o) => o[entry.id])
          : pulumi.output(unbound[entry.id]);
      const dependsOn: pulumi.Resource[] = entry.after.map((id) => {
        const dep = resources[id];
        if (!dep) throw new Error(`catalog order: ${entry.id} needs ${id}, which is declared later`);
        return dep;
      });
      if (args.clusterReady) dependsOn.push(args.clusterReady);
      if (args.autoscalerReady && (entry.kind === "ScaledObject" || entry.kind === "TriggerAuthentication"))
        dependsOn.push(args.autoscalerReady);
      const protect = args.protectData === true && inCluster && PROTECTED_WITH_DATA.includes(entry.id);
      resources[entry.id] = declare(`${name}-${entry.id}`, entry, object, { parent: this, provider: args.provider, dependsOn, protect });
    }

    // Traefik's ACME resolver and certificate storage, in kube-system (not the pipeline's namespace), before the
    // Ingress that asks it for a certificate.
    if (settings.ingress.tls) {
      const traefik = buildTraefikHelmChartConfig(settings);
      new k8s.apiextensions.CustomResource(
        `${name}-traefik-config`,
        { apiVersion: traefik.apiVersion, kind: traefik.kind, metadata: traefik.metadata, spec: traefik.spec },
        { parent: this, provider: args.provider, dependsOn: args.clusterReady ? [args.clusterReady] : [] },
      );
    }
    this.resources = resources;
    this.namespace = pulumi.output(settings.namespace);
    this.image = image;
    this.imageDigest = image.apply(imageDigest);
    this.workerDeploymentName = pulumi.output(objectNames(settings).worker);
    this.workerAutoscalerName = pulumi.output(objectNames(settings).workerAutoscaler);
    this.migrationJobName = image.apply((ref) => migrationJobName(settings, ref));
    this.registerOutputs({
      namespace: this.namespace,
      image: this.image,
      imageDigest: this.imageDigest,
      migrationJobName: this.migrationJobName,
    });
  }
}
