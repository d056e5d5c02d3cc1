/** Object names, in one place so cross-references (selectors, secretRefs, scaleTargetRef) cannot drift apart. */
import type { PipelineWorkloadSettings, WorkerScaling } from "./settings";
import { shortHash } from "../common/image";
import { IN_CLUSTER_POSTGRES_SERVICE } from "../common/postgres-service";

export { IN_CLUSTER_POSTGRES_SERVICE, POSTGRES_PORT } from "../common/postgres-service";
/** Container port of the webhook and the worker (the image's PORT default). */
export const HTTP_PORT = 8080;
/** Where the pods find the CA that signs an external database's server certificate (`sslrootcert` of DATABASE_URL). */
export const DATABASE_CA_DIR = "/etc/image-pipeline/database-ca";
export const DATABASE_CA_FILE = "ca.crt";
export const DATABASE_CA_PATH = `${DATABASE_CA_DIR}/${DATABASE_CA_FILE}`;

export interface ObjectNames {
  readonly webhook: string;
  readonly worker: string;
  readonly migrate: string;
  readonly config: string;
  readonly secrets: string;
  /** The migration Job's own Secret (in-cluster PostgreSQL): the superuser's URL and the application role's password. */
  readonly migrateSecrets: string;
  readonly postgres: string;
  readonly postgresCredentials: string;
  /** The image pull Secret, when a registry is configured. */
  readonly registry: string;
  /** The ConfigMap with the external database's CA certificate. */
  readonly databaseCa: string;
  /**
   * The worker's HorizontalPodAutoscaler: ours (cpu scaling) or the one KEDA makes for the ScaledObject
   * (queue-depth). Different names, so switching between the two in one `pulumi up` never has two owners fight
   * over one object: the new HPA is created before the old one is deleted.
   */
  readonly workerAutoscaler: string;
  /** The KEDA TriggerAuthentication that hands the scaler the database connection. */
  readonly workerScalerAuth: string;
}

export function objectNames(
  s: Pick<PipelineWorkloadSettings, "instance"> & { readonly worker?: { readonly scaling: WorkerScaling } },
): ObjectNames {
  return {
    webhook: `${s.instance}-webhook`,
    worker: `${s.instance}-worker`,
    migrate: `${s.instance}-migrate`,
    config: `${s.instance}-config`,
    secrets: `${s.instance}-secrets`,
    migrateSecrets: `${s.instance}-migrate-secrets`,
    postgres: IN_CLUSTER_POSTGRES_SERVICE,
    postgresCredentials: `${IN_CLUSTER_POSTGRES_SERVICE}-credentials`,
    registry: `${s.instance}-registry`,
    databaseCa: `${s.instance}-database-ca`,
    workerAutoscaler: s.worker?.scaling.kind === "queue-depth" ? `${s.instance}-worker-queue` : `${s.instance}-worker`,
    workerScalerAuth: `${s.instance}-worker-scaler`,
  };
}

/**
 * The migration Job's name carries a hash of the image, so each new image gets a new Job (a Job's pod template is
 * immutable, and a finished Job never runs again) while re-applying the same image changes nothing.
 */
export function migrationJobName(s: Pick<PipelineWorkloadSettings, "instance">, image: string): string {
  return `${objectNames(s).migrate}-${shortHash(image)}`;
}
