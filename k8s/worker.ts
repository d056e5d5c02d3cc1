/** The transform workers and their HorizontalPodAutoscaler (autoscaling/v2 on CPU utilization; k8s/keda.ts for queue depth). */
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { IHorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import type { IHorizontalPodAutoscalerBehavior } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscalerBehavior";
import { componentLabels, selectorLabels } from "./labels";
import { objectNames } from "./names";
import { pipelineContainer, pipelinePodSpec } from "./pods";
import { terminationGraceSeconds, type PipelineBindings, type PipelineWorkloadSettings, type WorkerSettings } from "./settings";

export function buildWorkerDeployment(
  s: PipelineWorkloadSettings,
  b: PipelineBindings,
  podAnnotations: Record<string, string>,
): IDeployment {
  const names = objectNames(s);
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: names.worker, namespace: s.namespace, labels: componentLabels(s.instance, "worker") },
    spec: {
      // No `replicas`: the HPA owns the count. A value here would reset the scale on every `pulumi up`.
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels(s.instance, "worker") },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: componentLabels(s.instance, "worker"), annotations: podAnnotations },
        spec: {
          ...pipelinePodSpec(s, {
            serviceAccountName: names.worker,
            container: pipelineContainer(s, { command: "worker", image: b.image, resources: s.worker.resources }),
            terminationGracePeriodSeconds: terminationGraceSeconds(s),
          }),
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: "kubernetes.io/hostname",
              whenUnsatisfiable: "ScheduleAnyway",
              labelSelector: { matchLabels: selectorLabels(s.instance, "worker") },
            },
          ],
        },
      },
    },
  };
}

interface ScalingRules {
  stabilizationWindowSeconds: number;
  selectPolicy: "Max";
  policies: { type: "Pods" | "Percent"; value: number; periodSeconds: number }[];
}

/** An autoscaling/v2 `behavior`, with the literal types the capacity model's HPA simulation takes too. */
export interface WorkerScalingBehavior extends IHorizontalPodAutoscalerBehavior {
  scaleUp: ScalingRules;
  scaleDown: ScalingRules;
}

/**
 * How fast the worker fleet grows and shrinks, whichever signal drives it (the HPA here, or the one KEDA makes).
 * Removing a worker interrupts its in-flight jobs (they are released and retried), so shrink slowly: one pod per
 * minute once load has stayed low for the whole window. Grow at once: by 2 pods or doubling per 30 s.
 */
export function workerScalingBehavior(w: Pick<WorkerSettings, "scaleDownStabilizationSeconds">): WorkerScalingBehavior {
  return {
    scaleDown: {
      stabilizationWindowSeconds: w.scaleDownStabilizationSeconds,
      selectPolicy: "Max",
      policies: [{ type: "Pods", value: 1, periodSeconds: 60 }],
    },
    scaleUp: {
      stabilizationWindowSeconds: 0,
      selectPolicy: "Max",
      policies: [
        { type: "Pods", value: 2, periodSeconds: 30 },
        { type: "Percent", value: 100, periodSeconds: 30 },
      ],
    },
  };
}

export function buildWorkerAutoscaler(s: PipelineWorkloadSettings): IHorizontalPodAutoscaler {
  const names = objectNames(s);
  const w = s.worker;
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: {
      name: names.workerAutoscaler,
      namespace: s.namespace,
      labels: componentLabels(s.instance, "worker"),
      // Switching the stack to queue-depth creates KEDA's ScaledObject before `pulumi up` deletes this HPA; KEDA's
      // admission webhook refuses a ScaledObject for a Deployment another HPA scales, unless that HPA opts out.
      annotations: { "validations.keda.sh/hpa-ownership": "false" },
    },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: names.worker },
      minReplicas: w.minReplicas,
      maxReplicas: w.maxReplicas,
      metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: w.cpuTargetPercent } } }],
      behavior: workerScalingBehavior(w),
    },
  };
}
