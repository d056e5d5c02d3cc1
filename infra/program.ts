/**
 * The whole pipeline, declared from a validated `StackConfig`. `index.ts` calls this with the stack's config;
 * the offline plan and the tests call it under Pulumi's mocks.
 */
import * as openstack from "@pulumi/openstack";
import * as pulumi from "@pulumi/pulumi";
import { parseRegistryCredentials, type RegistryConfig, type StackConfig } from "./config";
import { BlazarLease } from "./blazar/lease-resource";
import { PipelineNetwork, routerGatewayAddresses } from "./network";
import { ClusterNodes, NodePlacement, nodeNames } from "./nodes";
import { NodeImage, type NodeBootImage } from "./node-image/node-image";
import { K3sBootstrap, K3sCluster } from "./k3s";
import { createOpenStackProvider } from "./openstack-provider";
import { type ExternalDatabaseArgs, PipelineDatabase } from "./database";
import { PipelineStorage } from "./storage";
import { KedaOperator } from "./keda";
import { PipelineWorkload, type PipelineWorkloadArgs } from "./workload";
import { workloadSettings } from "./workload-settings";

/** The registry login as the workload takes it, split from `<username>:<token>` where it is used, kept secret. */
function registryLogin(registry: RegistryConfig | undefined): PipelineWorkloadArgs["registry"] {
  if (!registry) return undefined;
  const login = pulumi.secret(pulumi.output(registry.credentials).apply(parseRegistryCredentials));
  return { username: login.apply((l) => l.username), password: login.apply((l) => l.password) };
}

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
      privateSegment: cfg.network.privateSegment,
    },
    withProvider,
  );

  let placement: NodePlacement = { kind: "flavor", flavorName: cfg.nodes.flavor };
  let lease: BlazarLease | undefined;
  if (cfg.lease) {
    const reservation =
      cfg.lease.type === "flavor:instance"
        ? {
            type: "flavor:instance" as const,
            flavorId: openstack.compute.getFlavorOutput({ name: cfg.nodes.flavor }, { provider }).id,
            amount: cfg.nodes.count,
          }
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

  // PKI, join token and one cloud-config per node, before the nodes: k3s comes up from user data alone.
  const k3sBootstrap = new K3sBootstrap("k3s-bootstrap", {
    clusterName: cfg.resourcePrefix,
    nodeNames: nodeNames(cfg.nodes.namePrefix, cfg.nodes.count),
    privateIps: network.privateIps,
    floatingIp: network.floatingIpAddress,
    install: {
      version: cfg.k3s.version,
      installer: cfg.k3s.installer,
      binary: cfg.k3s.binary,
      airgapImages: cfg.k3s.airgapImages,
      joinTimeoutSeconds: cfg.k3s.joinTimeoutSeconds,
      nameservers: cfg.network.dnsNameservers,
      // Chameleon's bare-metal images run firewalld (ssh only) and its bare-metal sites enforce no security groups.
      hostFirewall: cfg.lease?.type === "physical:host" ? { privateCidr: cfg.network.cidr, adminCidr: cfg.network.adminCidr } : undefined,
    },
  });
  const userData = k3sBootstrap.userData;

  // The nodes boot the named image, or the one uploaded (and checked) under that name when the stack gives a source.
  let bootImage: NodeBootImage = { kind: "name", name: cfg.nodes.image };
  if (cfg.nodes.imageUpload) {
    const nodeImage = new NodeImage("node-image", { name: cfg.nodes.image, upload: cfg.nodes.imageUpload }, withProvider);
    bootImage = { kind: "id", id: nodeImage.imageId };
  }

  const nodes = new ClusterNodes(
    "nodes",
    {
      namePrefix: cfg.nodes.namePrefix,
      image: bootImage,
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

  // Readiness gate and the Kubernetes provider: every Kubernetes resource uses `{ provider: k3s.provider }`.
  const k3s = new K3sCluster("k3s", {
    bootstrap: k3sBootstrap,
    nodes: nodes.instances,
    nodeIds: nodes.instanceIds,
    floatingIpAssociation: network.floatingIpAssociation,
    readyTimeoutSeconds: cfg.k3s.readyTimeoutSeconds,
  });

  // PostgreSQL and object storage (issue 4). The workload takes `database.connection` and the storage outputs.
  // An external DBaaS (CSC Pukki) has its own Keystone, so its own provider, and is reached over the Internet: it
  // allows exactly the addresses the cluster's traffic leaves from, node1's floating IP and the router's gateway.
  let externalDatabase: ExternalDatabaseArgs | undefined;
  if (cfg.database.kind === "trove" && cfg.database.site.kind === "external") {
    const { cloud, region } = cfg.database.site;
    externalDatabase = {
      provider: createOpenStackProvider("openstack-dbaas", { cloud, region }),
      auth: { cloud, region },
      egressAddresses: pulumi
        .all([network.floatingIpAddress, routerGatewayAddresses(network.externalNetworkId, { parent: network })])
        .apply(([floatingIp, gateways]) => [floatingIp, ...gateways]),
    };
  }
  const database = new PipelineDatabase(
    "database",
    {
      config: cfg.database,
      namespace: cfg.workload.namespace,
      privateNetworkId: network.privateNetworkId,
      privateSubnet: network.privateSubnet,
      protect: cfg.protectData,
      privateNetworkCidr: cfg.network.cidr,
      external: externalDatabase,
    },
    withProvider,
  );
  // The storage site's own provider, when the object store is on another site than the compute (another Keystone):
  // only the EC2 credential is an OpenStack resource of the storage component, and it must be made there.
  const storageCloud = cfg.storage.credentials.kind === "openstack-ec2" ? cfg.storage.credentials.storageCloud : undefined;
  const storageProvider =
    storageCloud !== undefined && storageCloud !== cfg.openstack.cloud
      ? createOpenStackProvider("openstack-storage", { cloud: storageCloud })
      : provider;
  const storage = new PipelineStorage(
    "storage",
    {
      ...cfg.storage,
      // HTTPS to the host name (its A record is the floating IP), or plain HTTP to the address by explicit opt-in.
      webhookHost: cfg.webhook.kind === "https" ? cfg.webhook.hostName : network.floatingIpAddress,
      webhookScheme: cfg.webhook.kind === "https" ? "https" : "http",
      protect: cfg.protectData,
    },
    { providers: [storageProvider] },
  );

  // The pipeline on the cluster: on the k3s provider, after the readiness gate. The image comes from this stack's
  // own config, never from another stack: promotion writes the digest dev tested into prod's stack file beforehand.
  // Queue-depth scaling needs KEDA: installed here from its pinned chart unless the stack says the cluster has it.
  const scaling = cfg.workload.scaling;
  const keda =
    scaling.kind === "queue-depth" && scaling.keda.install
      ? new KedaOperator("keda", {
          chartVersion: scaling.keda.chartVersion,
          namespace: scaling.keda.namespace,
          provider: k3s.provider,
          clusterReady: k3s.readiness,
        })
      : undefined;
  const workload = new PipelineWorkload("workload", {
    settings: workloadSettings(cfg),
    provider: k3s.provider,
    clusterReady: k3s.readiness,
    autoscalerReady: keda?.release,
    protectData: cfg.protectData,
    image: cfg.workload.image,
    storage: {
      endpoint: storage.endpoint,
      region: storage.region,
      inputBucket: storage.inputBucket,
      outputBucket: storage.outputBucket,
      // The pipeline's own credential when the stack names one: the bucket owner's would not be held to the policies.
      accessKeyId: storage.workloadAccessKeyId,
      secretAccessKey: storage.workloadSecretAccessKey,
      webhookSecret: storage.webhookSecret,
    },
    database: {
      connectionString: database.connection.connectionString,
      password: database.connection.password,
      admin: database.connection.admin,
      target: pulumi.interpolate`${database.connection.host}:${database.connection.port}/${database.connection.database}`,
    },
    registry: registryLogin(cfg.registry),
  });

  return {
    floatingIp: network.floatingIpAddress,
    privateNetworkId: network.privateNetworkId,
    nodeNames: nodes.names,
    leaseId: lease?.leaseId,
    leaseEndDate: lease?.leaseEndDate,
    /** Admin kubeconfig (secret): `pulumi stack output kubeconfig --show-secrets > kubeconfig`. */
    kubeconfig: k3s.kubeconfig,
    kubernetesApi: k3s.apiServer,
    databaseKind: database.connection.kind,
    databaseHost: database.connection.host,
    s3Endpoint: storage.endpoint,
    s3Region: storage.region,
    /** The pipeline's S3 credentials, for `npm run verify` (the secret key stays secret: it needs --show-secrets). */
    s3AccessKeyId: storage.accessKeyId,
    s3SecretAccessKey: pulumi.secret(storage.secretAccessKey),
    inputBucket: storage.inputBucket,
    outputBucket: storage.outputBucket,
    /** The workers' OUTPUT_PREFIX: an output's key is this prefix and its input's key. */
    outputPrefix: cfg.workload.outputPrefix,
    notificationTopicArn: storage.topicArn,
    notificationPushEndpoint: storage.pushEndpoint,
    /** The digest-pinned worker image this stack runs; `npm run promote -- --from <this stack>` reads it. */
    workerImage: workload.image,
    workerImageDigest: workload.imageDigest,
    kubernetesNamespace: workload.namespace,
    /** The worker HorizontalPodAutoscaler (ours, or the one KEDA makes for queue-depth scaling), which `npm run verify` watches. */
    workerAutoscaler: workload.workerAutoscalerName,
  };
}

export type PipelineOutputs = ReturnType<typeof imagePipeline>;
