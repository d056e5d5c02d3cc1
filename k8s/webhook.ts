/**
 * The webhook: receives the notification topic's POSTs through k3s's Traefik on port 80 of the floating IP
 * (`http://<floating IP>/notify`, the topic's push endpoint) and stores each job durably before answering.
 */
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { IIngress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import type { IService } from "kubernetes-models/v1/Service";
import { componentLabels, selectorLabels } from "./labels";
import { objectNames } from "./names";
import { pipelineContainer, pipelinePodSpec } from "./pods";
import { terminationGraceSeconds, type PipelineBindings, type PipelineWorkloadSettings } from "./settings";

/**
 * After SIGTERM, Traefik keeps sending to a pod until it sees the endpoint removed. Sleeping before the process is
 * signalled lets that happen, so a rollout drops no notification.
 */
const ENDPOINT_DRAIN_SECONDS = 5;

export function buildWebhookDeployment(
  s: PipelineWorkloadSettings,
  b: PipelineBindings,
  podAnnotations: Record<string, string>,
): IDeployment {
  const names = objectNames(s);
  const container = pipelineContainer(s, { command: "webhook", image: b.image, resources: s.webhook.resources });
  container.lifecycle = { preStop: { sleep: { seconds: ENDPOINT_DRAIN_SECONDS } } };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: names.webhook, namespace: s.namespace, labels: componentLabels(s.instance, "webhook") },
    spec: {
      replicas: s.webhook.replicas,
      revisionHistoryLimit: 5,
      selector: { matchLabels: selectorLabels(s.instance, "webhook") },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: componentLabels(s.instance, "webhook"), annotations: podAnnotations },
        spec: {
          ...pipelinePodSpec(s, {
            serviceAccountName: names.webhook,
            container,
            terminationGracePeriodSeconds: terminationGraceSeconds(s) + ENDPOINT_DRAIN_SECONDS,
          }),
          topologySpreadConstraints: [
            {
              maxSkew: 1,
              topologyKey: "kubernetes.io/hostname",
              whenUnsatisfiable: "ScheduleAnyway",
              labelSelector: { matchLabels: selectorLabels(s.instance, "webhook") },
            },
          ],
        },
      },
    },
  };
}

export function buildWebhookService(s: PipelineWorkloadSettings): IService {
  const names = objectNames(s);
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: names.webhook, namespace: s.namespace, labels: componentLabels(s.instance, "webhook") },
    spec: {
      type: "ClusterIP",
      selector: selectorLabels(s.instance, "webhook"),
      ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }],
    },
  };
}

/** Only the notify path is published; /metrics, /healthz and /readyz stay inside the cluster. */
/**
 * With TLS the route answers only on Traefik's `websecure` entry point (443) for the host name, with a certificate
 * from the ACME resolver (traefik.ts); port 80 then serves nothing of the pipeline, only ACME's HTTP challenge.
 */
export function buildWebhookIngress(s: PipelineWorkloadSettings): IIngress {
  const names = objectNames(s);
  const tls = s.ingress.tls;
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: {
      name: names.webhook,
      namespace: s.namespace,
      labels: componentLabels(s.instance, "webhook"),
      annotations: tls
        ? {
            "traefik.ingress.kubernetes.io/router.entrypoints": "websecure",
            "traefik.ingress.kubernetes.io/router.tls": "true",
            "traefik.ingress.kubernetes.io/router.tls.certresolver": tls.certResolver,
          }
        : undefined,
    },
    spec: {
      ingressClassName: s.ingress.className,
      tls: tls ? [{ hosts: [tls.hostName] }] : undefined,
      rules: [
        {
          host: tls?.hostName,
          http: {
            paths: [{ path: s.ingress.path, pathType: "Exact", backend: { service: { name: names.webhook, port: { name: "http" } } } }],
          },
        },
      ],
    },
  };
}
