/**
 * In-cluster PostgreSQL for stacks without a managed database (Chameleon KVM has no Trove): one replica on a
 * local-path PersistentVolumeClaim, reachable as `postgres.<namespace>.svc.cluster.local:5432`, which is the host
 * the database component already put in the connection string.
 *
 * One replica on node-local storage is a development database: the pod is pinned to the node that holds its
 * volume and there is no failover. That is the trade-off the dev stack makes; prod uses Trove.
 */
import type { IStatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import type { IProbe } from "kubernetes-models/v1/Probe";
import type { IService } from "kubernetes-models/v1/Service";
import { componentLabels, selectorLabels } from "./labels";
import { objectNames, POSTGRES_PORT } from "./names";
import { resourceRequirements } from "./pods";
import { restrictedContainerSecurityContext, restrictedPodSecurityContext } from "./security";
import type { InClusterPostgresSettings, PipelineWorkloadSettings } from "./settings";

const DATA_MOUNT = "/var/lib/postgresql/data";

function inCluster(s: PipelineWorkloadSettings): InClusterPostgresSettings {
  if (s.database.kind !== "in-cluster")
    throw new Error(`the PostgreSQL objects are only built when database.kind is in-cluster, not ${s.database.kind}`);
  return s.database;
}

function pgIsReady(db: InClusterPostgresSettings, periodSeconds: number, failureThreshold: number): IProbe {
  // Exec form, no shell: pg_isready ships in the image and needs neither a password nor a writable filesystem.
  return {
    exec: {
      command: ["pg_isready", "--host=127.0.0.1", `--port=${POSTGRES_PORT}`, `--username=${db.adminUser}`, `--dbname=${db.database}`],
    },
    periodSeconds,
    failureThreshold,
    timeoutSeconds: 5,
  };
}

export function buildPostgresStatefulSet(s: PipelineWorkloadSettings): IStatefulSet {
  const db = inCluster(s);
  const names = objectNames(s);
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: names.postgres, namespace: s.namespace, labels: componentLabels(s.instance, "postgres") },
    spec: {
      serviceName: names.postgres,
      replicas: 1,
      selector: { matchLabels: selectorLabels(s.instance, "postgres") },
      updateStrategy: { type: "RollingUpdate" },
      // Deleting the StatefulSet (or the stack) keeps the data; removing the volume is a deliberate act.
      persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
      template: {
        metadata: { labels: componentLabels(s.instance, "postgres") },
        spec: {
          serviceAccountName: names.postgres,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: restrictedPodSecurityContext(db.runAsUser),
          // Time for a clean "fast" shutdown (checkpoint) so the next start needs no crash recovery.
          terminationGracePeriodSeconds: 60,
          containers: [
            {
              name: "postgres",
              image: db.image,
              imagePullPolicy: "IfNotPresent",
              ports: [{ name: "postgres", containerPort: POSTGRES_PORT, protocol: "TCP" }],
              env: [
                // The image's initdb creates this superuser; the services' role is the migration Job's to create.
                { name: "POSTGRES_USER", value: db.adminUser },
                { name: "POSTGRES_DB", value: db.database },
                { name: "POSTGRES_PASSWORD", valueFrom: { secretKeyRef: { name: names.postgresCredentials, key: "POSTGRES_PASSWORD" } } },
                // A subdirectory, so initdb never finds a non-empty mount point (e.g. lost+found on block volumes).
                { name: "PGDATA", value: `${DATA_MOUNT}/pgdata` },
              ],
              startupProbe: pgIsReady(db, 5, 60),
              readinessProbe: pgIsReady(db, 5, 3),
              livenessProbe: pgIsReady(db, 15, 4),
              resources: resourceRequirements(db.resources),
              securityContext: restrictedContainerSecurityContext(),
              volumeMounts: [
                { name: "data", mountPath: DATA_MOUNT },
                // The root filesystem is read-only; the server writes its socket and lock here.
                { name: "run", mountPath: "/var/run/postgresql" },
                { name: "tmp", mountPath: "/tmp" },
                { name: "shm", mountPath: "/dev/shm" },
              ],
            },
          ],
          volumes: [
            { name: "run", emptyDir: { sizeLimit: "16Mi" } },
            { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
            // Parallel queries use dynamic shared memory; the container runtime's default /dev/shm is 64 MiB.
            { name: "shm", emptyDir: { medium: "Memory", sizeLimit: "256Mi" } },
          ],
        },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: "data", labels: componentLabels(s.instance, "postgres") },
          spec: {
            accessModes: ["ReadWriteOnce"],
            storageClassName: db.storageClassName,
            resources: { requests: { storage: db.storageSize } },
          },
        },
      ],
    },
  };
}

/** Headless: it governs the StatefulSet and its DNS name resolves straight to the single pod. */
export function buildPostgresService(s: PipelineWorkloadSettings): IService {
  inCluster(s);
  const names = objectNames(s);
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: names.postgres, namespace: s.namespace, labels: componentLabels(s.instance, "postgres") },
    spec: {
      clusterIP: "None",
      selector: selectorLabels(s.instance, "postgres"),
      ports: [{ name: "postgres", port: POSTGRES_PORT, targetPort: "postgres", protocol: "TCP" }],
    },
  };
}
