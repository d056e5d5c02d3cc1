/**
 * STAND-IN for the Kubernetes API server (a real one cannot run here), for the three reads the cluster watch makes.
 * A real HTTPS server with real mutual TLS that follows the published API shapes:
 *  - GET /apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers/{name}: a `HorizontalPodAutoscaler`
 *    (autoscaling/v2: spec.scaleTargetRef, spec.metrics[].resource.target.averageUtilization, status.currentReplicas,
 *    status.desiredReplicas, status.currentMetrics[].resource.current.averageUtilization);
 *  - GET /apis/apps/v1/namespaces/{ns}/deployments/{name}: a `Deployment` with spec.selector.matchLabels;
 *  - GET /api/v1/namespaces/{ns}/pods?labelSelector=k=v,...: a `PodList` filtered by equality selectors, each pod
 *    with status.phase and a `Ready` condition, terminating pods with metadata.deletionTimestamp;
 *  - anything else: 404 with a `Status`; a request without a client certificate the client CA signed: 401 `Status`.
 */
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";

export interface ScalingState {
  readonly currentReplicas: number;
  readonly desiredReplicas: number;
  readonly cpuPercent?: number;
  /** Pods of the worker: ready ones, not-ready ones, terminating ones. */
  readonly ready: number;
  readonly notReady?: number;
  readonly terminating?: number;
}

export interface FakeAutoscalingApiOptions {
  readonly servingCertPem: string;
  readonly servingKeyPem: string;
  readonly clientCaPem: string;
  readonly namespace: string;
  readonly name: string;
  readonly cpuTargetPercent: number;
  /** What the cluster looks like now. */
  readonly state: () => ScalingState;
}

export interface FakeAutoscalingApi {
  readonly url: string;
  readonly requests: string[];
  close(): Promise<void>;
}

const LABELS = { "app.kubernetes.io/name": "image-pipeline", "app.kubernetes.io/component": "worker" };

function status(code: number, reason: string, message: string): string {
  return JSON.stringify({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code });
}

function pod(name: string, labels: Record<string, string>, ready: boolean, terminating = false): object {
  return {
    metadata: { name, labels, ...(terminating ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}) },
    status: { phase: ready ? "Running" : "Pending", conditions: [{ type: "Ready", status: ready ? "True" : "False" }] },
  };
}

export async function startFakeAutoscalingApi(o: FakeAutoscalingApiOptions): Promise<FakeAutoscalingApi> {
  const requests: string[] = [];
  const server = https.createServer(
    { cert: o.servingCertPem, key: o.servingKeyPem, ca: o.clientCaPem, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      requests.push(req.url ?? "");
      const send = (code: number, body: string): void => {
        res.writeHead(code, { "Content-Type": "application/json" });
        res.end(body);
      };
      if (!(req.socket as TLSSocket).authorized) return send(401, status(401, "Unauthorized", "Unauthorized"));
      const url = new URL(req.url ?? "/", "https://localhost");
      const s = o.state();
      const ns = o.namespace;
      if (req.method !== "GET") return send(405, status(405, "MethodNotAllowed", "only GET"));
      if (url.pathname === `/apis/autoscaling/v2/namespaces/${ns}/horizontalpodautoscalers/${o.name}`) {
        return send(
          200,
          JSON.stringify({
            apiVersion: "autoscaling/v2",
            kind: "HorizontalPodAutoscaler",
            metadata: { name: o.name, namespace: ns },
            spec: {
              scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: o.name },
              minReplicas: 1,
              maxReplicas: 10,
              metrics: [
                { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: o.cpuTargetPercent } } },
              ],
            },
            status: {
              currentReplicas: s.currentReplicas,
              desiredReplicas: s.desiredReplicas,
              // Absent until the metrics server has a reading, as on a fresh HPA.
              ...(s.cpuPercent === undefined
                ? {}
                : {
                    currentMetrics: [
                      { type: "Resource", resource: { name: "cpu", current: { averageUtilization: s.cpuPercent, averageValue: "100m" } } },
                    ],
                  }),
            },
          }),
        );
      }
      if (url.pathname === `/apis/apps/v1/namespaces/${ns}/deployments/${o.name}`) {
        return send(
          200,
          JSON.stringify({
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: { name: o.name, namespace: ns },
            spec: { selector: { matchLabels: LABELS } },
          }),
        );
      }
      if (url.pathname === `/api/v1/namespaces/${ns}/pods`) {
        const selector = Object.fromEntries(
          (url.searchParams.get("labelSelector") ?? "")
            .split(",")
            .filter(Boolean)
            .map((kv) => kv.split("=") as [string, string]),
        );
        const all = [
          ...Array.from({ length: s.ready }, (_, i) => pod(`w-ready-${i}`, LABELS, true)),
          ...Array.from({ length: s.notReady ?? 0 }, (_, i) => pod(`w-starting-${i}`, LABELS, false)),
          ...Array.from({ length: s.terminating ?? 0 }, (_, i) => pod(`w-leaving-${i}`, LABELS, true, true)),
          pod("webhook-0", { ...LABELS, "app.kubernetes.io/component": "webhook" }, true),
        ];
        const items = all.filter((p) =>
          Object.entries(selector).every(([k, v]) => (p as { metadata: { labels: Record<string, string> } }).metadata.labels[k] === v),
        );
        return send(200, JSON.stringify({ apiVersion: "v1", kind: "PodList", metadata: { resourceVersion: "1" }, items }));
      }
      return send(404, status(404, "NotFound", `the server could not find the requested resource (${url.pathname})`));
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
