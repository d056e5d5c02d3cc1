/**
 * Queue-depth scaling of the workers with KEDA (https://keda.sh): a ScaledObject whose `postgresql` trigger runs
 * the queue's own "jobs that want a worker now" query, with CPU utilisation as a second trigger so a fleet busy
 * with large images is never shrunk below what CPU asks for. KEDA turns the ScaledObject into an HPA (named by
 * `horizontalPodAutoscalerConfig.name`) with the same scaling behaviour as the CPU-only HPA.
 *
 * The field names are those of KEDA 2.20's CRDs (keda.sh/v1alpha1) and of its postgresql scaler
 * (pkg/scalers/postgresql_scaler.go: `connection` from a TriggerAuthentication, `query`, `targetQueryValue`);
 * test/k8s/schemas/keda holds the CRD schemas the objects are validated against.
 */
import type { IObjectMeta } from "@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta";
import type { IHorizontalPodAutoscalerBehavior } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscalerBehavior";
import { OUTSTANDING_JOBS_SQL } from "../worker/src/db/queue/outstanding";
import { componentLabels } from "./labels";
import { objectNames } from "./names";
import type { PipelineWorkloadSettings } from "./settings";
import { workerScalingBehavior } from "./worker";

export const KEDA_API_VERSION = "keda.sh/v1alpha1";

/** The labels of KEDA's operator pod (its chart's), the pod that runs the scaler's query. */
export const KEDA_OPERATOR_POD_LABELS: Readonly<Record<string, string>> = { "app.kubernetes.io/name": "keda-operator" };
export const KEDA_CHART_REPOSITORY = "https://kedacore.github.io/charts";

/** The Secret key the scaler's connection string comes from: the pipeline's own DATABASE_URL. */
export const SCALER_CONNECTION_KEY = "DATABASE_URL";

interface KedaTrigger {
  readonly type: string;
  readonly metricType?: "AverageValue" | "Value" | "Utilization";
  readonly metadata: Readonly<Record<string, string>>;
  readonly authenticationRef?: { readonly name: string; readonly kind?: "TriggerAuthentication" };
}

export interface ScaledObjectObject {
  readonly apiVersion: typeof KEDA_API_VERSION;
  readonly kind: "ScaledObject";
  readonly metadata: IObjectMeta;
  readonly spec: {
    readonly scaleTargetRef: { readonly apiVersion: string; readonly kind: string; readonly name: string };
    readonly pollingInterval: number;
    readonly minReplicaCount: number;
    readonly maxReplicaCount: number;
    readonly advanced: {
      readonly horizontalPodAutoscalerConfig: { readonly name: string; readonly behavior: IHorizontalPodAutoscalerBehavior };
    };
    readonly triggers: readonly KedaTrigger[];
  };
}

export interface TriggerAuthenticationObject {
  readonly apiVersion: typeof KEDA_API_VERSION;
  readonly kind: "TriggerAuthentication";
  readonly metadata: IObjectMeta;
  readonly spec: {
    readonly secretTargetRef: readonly { readonly parameter: string; readonly name: string; readonly key: string }[];
  };
}

function queueScaling(s: PipelineWorkloadSettings) {
  if (s.worker.scaling.kind !== "queue-depth") throw new Error("KEDA objects are built only for queue-depth scaling");
  return s.worker.scaling;
}

/** The scaler's database connection: a reference to the pipeline Secret's DATABASE_URL, never a copy of it. */
export function buildWorkerTriggerAuthentication(s: PipelineWorkloadSettings): TriggerAuthenticationObject {
  queueScaling(s);
  const names = objectNames(s);
  return {
    apiVersion: KEDA_API_VERSION,
    kind: "TriggerAuthentication",
    metadata: { name: names.workerScalerAuth, namespace: s.namespace, labels: componentLabels(s.instance, "worker") },
    spec: { secretTargetRef: [{ parameter: "connection", name: names.secrets, key: SCALER_CONNECTION_KEY }] },
  };
}

export function buildWorkerScaledObject(s: PipelineWorkloadSettings): ScaledObjectObject {
  const scaling = queueScaling(s);
  const names = objectNames(s);
  const w = s.worker;
  return {
    apiVersion: KEDA_API_VERSION,
    kind: "ScaledObject",
    metadata: { name: names.worker, namespace: s.namespace, labels: componentLabels(s.instance, "worker") },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: names.worker },
      pollingInterval: scaling.pollingIntervalSeconds,
      // Never zero: the reconciler in every worker is what finds objects whose notification was lost.
      minReplicaCount: w.minReplicas,
      maxReplicaCount: w.maxReplicas,
      advanced: { horizontalPodAutoscalerConfig: { name: names.workerAutoscaler, behavior: workerScalingBehavior(w) } },
      triggers: [
        {
          type: "postgresql",
          // AverageValue: the HPA wants ceil(outstanding / jobsPerReplica) replicas.
          metricType: "AverageValue",
          metadata: { query: OUTSTANDING_JOBS_SQL, targetQueryValue: String(scaling.jobsPerReplica) },
          authenticationRef: { name: names.workerScalerAuth },
        },
        { type: "cpu", metricType: "Utilization", metadata: { value: String(w.cpuTargetPercent) } },
      ],
    },
  };
}
