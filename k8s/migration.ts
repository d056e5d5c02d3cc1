/**
 * Schema migrations run once per image and database, as a Job named after the image (see `migrationJobName`).
 *
 * Why a Job and not an init container: an init container runs in every replica on every restart and every HPA
 * scale-up, each taking the migration advisory lock in turn; a Job runs once per image, its logs are in one place,
 * and a failed migration stops the rollout before any new pod starts (the Deployments depend on the Job, and
 * Pulumi waits for a Job to complete). Replicas still verify the schema at start, so a pod applied out of order
 * (e.g. by a GitOps tool that ignores the dependency) stays unready instead of running against an old schema.
 */
import type { IJob } from "kubernetes-models/batch/v1/Job";
import { componentLabels } from "./labels";
import { migrationJobName, objectNames } from "./names";
import { pipelineContainer, pipelinePodSpec } from "./pods";
import type { PipelineBindings, PipelineWorkloadSettings } from "./settings";

export const MIGRATION_DEADLINE_SECONDS = 600;

/**
 * pulumi-kubernetes keeps waiting on a Job that did not complete in an earlier update, on every later update; with
 * this annotation it replaces such a Job instead (provider.go `Diff`: `metadata.ReplaceUnready`, Jobs only).
 */
export const REPLACE_UNREADY_ANNOTATION = "pulumi.com/replaceUnready";
/** On the Job's pod template: a different database is a different template, so its migrations run. */
export const DATABASE_TARGET_ANNOTATION = "image-pipeline/database";
/** On the Job's pod template (in-cluster PostgreSQL): a new role password is a new template, so the Job sets it. */
export const APP_ROLE_ANNOTATION = "image-pipeline/app-role";

/**
 * A Job's `.spec.template` cannot change: pulumi-kubernetes replaces the Job when it does, deleting it first because
 * its name is fixed. So the template carries nothing that changes with configuration or secrets (no checksums, unlike
 * the Deployments'): only the image (in the name and the container) and the database it migrates.
 */
export function buildMigrationJob(s: PipelineWorkloadSettings, b: PipelineBindings): IJob {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: migrationJobName(s, b.image),
      namespace: s.namespace,
      labels: componentLabels(s.instance, "migrate"),
      annotations: { "image-pipeline/image": b.image, [REPLACE_UNREADY_ANNOTATION]: "true" },
    },
    spec: {
      // Retries cover a database that is still starting (in-cluster PostgreSQL on first deploy).
      backoffLimit: 6,
      activeDeadlineSeconds: MIGRATION_DEADLINE_SECONDS,
      // No ttlSecondsAfterFinished: the finished Job is the record that this image's migrations ran, and a Job
      // deleted behind Pulumi's back would be re-created on the next refresh.
      template: {
        metadata: {
          labels: componentLabels(s.instance, "migrate"),
          annotations: {
            [DATABASE_TARGET_ANNOTATION]: b.databaseTarget,
            ...(b.appRoleChecksum !== undefined ? { [APP_ROLE_ANNOTATION]: b.appRoleChecksum } : {}),
          },
        },
        spec: pipelinePodSpec(s, {
          serviceAccountName: objectNames(s).migrate,
          container: pipelineContainer(s, { command: "migrate", image: b.image, resources: s.webhook.resources }),
          terminationGracePeriodSeconds: 30,
          restartPolicy: "Never",
        }),
      },
    },
  };
}
