/** Pod template parts shared by the webhook, the worker and the migration Job: one image, three commands. */
import type { Command } from "../worker/src/config";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { IPodSpec } from "kubernetes-models/v1/PodSpec";
import type { IProbe } from "kubernetes-models/v1/Probe";
import type { IResourceRequirements } from "kubernetes-models/v1/ResourceRequirements";
import { DATABASE_CA_DIR, HTTP_PORT, objectNames } from "./names";
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from "./security";
import type { PipelineWorkloadSettings, ResourceSettings } from "./settings";

const DATABASE_CA_VOLUME = "database-ca";

/** True when the pods verify the database's server certificate against a CA mounted from a ConfigMap. */
function mountsDatabaseCa(s: PipelineWorkloadSettings): boolean {
  return s.database.kind === "trove" && s.database.caCertificate !== undefined;
}

export function resourceRequirements(r: ResourceSettings): IResourceRequirements {
  return {
    requests: { cpu: r.requests.cpu, memory: r.requests.memory },
    limits: { cpu: r.limits.cpu, memory: r.limits.memory },
  };
}

function httpProbe(path: string, periodSeconds: number, failureThreshold: number): IProbe {
  return { httpGet: { path, port: "http" }, periodSeconds, failureThreshold, timeoutSeconds: 3 };
}

export interface PipelineContainerOptions {
  readonly command: Command;
  readonly image: string;
  readonly resources: ResourceSettings;
}

/** The worker image's container for one command, with its configuration from the ConfigMap and the Secret. */
export function pipelineContainer(s: PipelineWorkloadSettings, o: PipelineContainerOptions): IContainer {
  const names = objectNames(s);
  const serving = o.command !== "migrate";
  return {
    name: o.command,
    image: o.image,
    // Digest-pinned: the node's cached copy is exactly the requested image, no registry round-trip needed.
    imagePullPolicy: "IfNotPresent",
    // The image's ENTRYPOINT is `node … dist/worker/src/main.js` (worker/Dockerfile); the argument picks the command.
    args: [o.command],
    // With the in-cluster PostgreSQL the migration Job alone holds the superuser's URL, in a Secret of its own that
    // holds nothing else (no S3 keys, no webhook secret); the services' Secret has the application role's URL.
    envFrom: [
      { configMapRef: { name: names.config } },
      { secretRef: { name: o.command === "migrate" && s.database.kind === "in-cluster" ? names.migrateSecrets : names.secrets } },
    ],
    // The pod name is unique and shows up in the event log, which makes a job traceable to its pod.
    env: o.command === "worker" ? [{ name: "WORKER_ID", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }] : undefined,
    ports: serving ? [{ name: "http", containerPort: HTTP_PORT, protocol: "TCP" }] : undefined,
    // /healthz answers as soon as the process serves; /readyz also checks the database, so a pod without its
    // database leaves the Service (and stops claiming) without being restarted.
    startupProbe: serving ? httpProbe("/healthz", 2, 30) : undefined,
    livenessProbe: serving ? httpProbe("/healthz", 10, 3) : undefined,
    readinessProbe: serving ? httpProbe("/readyz", 5, 2) : undefined,
    resources: resourceRequirements(o.resources),
    securityContext: restrictedContainerSecurityContext(),
    // The root filesystem is read-only; sharp/libvips and Node may still need a scratch directory.
    volumeMounts: [
      { name: "tmp", mountPath: "/tmp" },
      ...(mountsDatabaseCa(s) ? [{ name: DATABASE_CA_VOLUME, mountPath: DATABASE_CA_DIR, readOnly: true }] : []),
    ],
  };
}

export interface PipelinePodSpecOptions {
  readonly serviceAccountName: string;
  readonly container: IContainer;
  readonly terminationGracePeriodSeconds: number;
  readonly restartPolicy?: "Always" | "Never" | "OnFailure";
}

export function pipelinePodSpec(s: PipelineWorkloadSettings, o: PipelinePodSpecOptions): IPodSpec {
  return {
    serviceAccountName: o.serviceAccountName,
    // The pipeline never calls the Kubernetes API, so it gets no token to leak.
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: restrictedPodSecurityContext(s.workerRunAsUser),
    terminationGracePeriodSeconds: o.terminationGracePeriodSeconds,
    restartPolicy: o.restartPolicy,
    containers: [o.container],
    volumes: [
      { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
      ...(mountsDatabaseCa(s) ? [{ name: DATABASE_CA_VOLUME, configMap: { name: objectNames(s).databaseCa } }] : []),
    ],
  };
}
