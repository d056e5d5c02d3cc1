/**
 * The cluster watch against a stand-in Kubernetes API (support/fake-autoscaling-api.ts: real HTTPS and mutual TLS,
 * the published autoscaling/v2, apps/v1 and core/v1 shapes), with real certificates from the k3s PKI and the
 * kubeconfig the program renders.
 */
import fs from "node:fs";
import { renderKubeconfig } from "../../infra/k3s/kubeconfig";
import { serverCaBundle } from "../../infra/k3s/server-tls";
import { kubeClientFrom } from "../../scripts/verify/kube-api";
import { sampleAutoscaler, startWatch, verdictOf, type WatchSample } from "../../scripts/verify/watch";
import { buildPkiWithOpenssl, issue, type KeyAndCert, type OpensslPki } from "../k3s/support/openssl-pki";
import { startFakeAutoscalingApi, type FakeAutoscalingApi, type ScalingState } from "./support/fake-autoscaling-api";

let pki: OpensslPki;
let serving: KeyAndCert;
let api: FakeAutoscalingApi;
let state: ScalingState = { currentReplicas: 1, desiredReplicas: 1, ready: 1 };

beforeAll(async () => {
  pki = buildPkiWithOpenssl("verify-watch");
  serving = issue(
    pki.dir,
    "serving",
    {
      commonName: "k3s",
      key: { algorithm: "ECDSA", ecdsaCurve: "P256" },
      allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
      isCa: false,
      validityHours: 24,
    },
    pki.cas.server,
    { ips: ["127.0.0.1"] },
  );
  api = await startFakeAutoscalingApi({
    servingCertPem: serving.certPem,
    servingKeyPem: serving.keyPem,
    clientCaPem: [pki.cas.client.certPem, pki.cas.intermediate.certPem, pki.cas.root.certPem].join(""),
    namespace: "image-pipeline",
    name: "image-pipeline-worker",
    cpuTargetPercent: 50,
    state: () => state,
  });
});
afterAll(async () => {
  await api?.close();
  fs.rmSync(pki.dir, { recursive: true, force: true });
});

const kubeconfig = (client: KeyAndCert = pki.admin): string =>
  renderKubeconfig({
    clusterName: "verify-watch",
    server: api.url,
    caBundlePem: serverCaBundle(pki.material),
    clientCertPem: client.certPem,
    clientKeyPem: client.keyPem,
  });

test("one sample reads the HPA's replicas and CPU against target, and counts only the worker's live pods", async () => {
  state = { currentReplicas: 3, desiredReplicas: 4, cpuPercent: 333, ready: 2, notReady: 1, terminating: 1 };
  const sample = await sampleAutoscaler(kubeClientFrom(kubeconfig()), "image-pipeline", "image-pipeline-worker");
  expect(sample).toEqual({ currentReplicas: 3, desiredReplicas: 4, cpuPercent: 333, cpuTargetPercent: 50, podsReady: 2, podsTotal: 3 });
  expect(api.requests.some((r) => r.startsWith("/api/v1/namespaces/image-pipeline/pods?labelSelector=app.kubernetes.io%2Fname%3D"))).toBe(
    true,
  );
});

test("a fresh HPA without a CPU reading yet is sampled without one", async () => {
  state = { currentReplicas: 1, desiredReplicas: 1, ready: 1 };
  const sample = await sampleAutoscaler(kubeClientFrom(kubeconfig()), "image-pipeline", "image-pipeline-worker");
  expect(sample.cpuPercent).toBeUndefined();
});

test("a client certificate the cluster does not trust gets the API's 401, reported as such", async () => {
  const stranger = issue(pki.dir, "stranger", {
    commonName: "stranger",
    key: { algorithm: "ECDSA", ecdsaCurve: "P256" },
    allowedUses: ["digital_signature", "client_auth", "cert_signing"],
    isCa: true,
    validityHours: 1,
  });
  await expect(sampleAutoscaler(kubeClientFrom(kubeconfig(stranger)), "image-pipeline", "image-pipeline-worker")).rejects.toThrow(
    /GET \/apis\/autoscaling\/v2\/namespaces\/image-pipeline\/horizontalpodautoscalers\/image-pipeline-worker: 401 Unauthorized/,
  );
});

test("the watch samples through the load and the cool-down, and answers scaled out and back in", async () => {
  state = { currentReplicas: 1, desiredReplicas: 1, cpuPercent: 5, ready: 1 };
  const watch = startWatch({
    client: kubeClientFrom(kubeconfig()),
    namespace: "image-pipeline",
    autoscaler: "image-pipeline-worker",
    intervalMs: 40,
    cooldownMs: 5_000,
    loadState: () => ({ uploaded: 0, done: 0 }),
  });
  await new Promise((r) => setTimeout(r, 150));
  watch.mark("load-start");
  state = { currentReplicas: 1, desiredReplicas: 3, cpuPercent: 333, ready: 1 };
  await new Promise((r) => setTimeout(r, 150));
  state = { currentReplicas: 3, desiredReplicas: 3, cpuPercent: 110, ready: 3 };
  await new Promise((r) => setTimeout(r, 150));
  watch.mark("load-end");
  state = { currentReplicas: 2, desiredReplicas: 1, cpuPercent: 0, ready: 2 };
  setTimeout(() => (state = { currentReplicas: 1, desiredReplicas: 1, cpuPercent: 0, ready: 1 }), 200);
  const report = await watch.finish();
  expect(report.problem).toBeUndefined();
  expect(report.verdict[0]).toMatchObject({
    question: "scaled out under load",
    answer: "yes",
    evidence: expect.stringMatching(/^1 → 3 replicas/),
  });
  expect(report.verdict[1]).toMatchObject({
    question: "scaled back in after",
    answer: "yes",
    evidence: expect.stringMatching(/^back to 1 at/),
  });
  expect(report.verdict[2]).toMatchObject({ answer: "yes", evidence: "peak 333% of request against a 50% target" });
  // It stopped once back at the start, well before the 5 s cool-down.
  const last = report.samples[report.samples.length - 1];
  expect(last.atMs - report.marks["load-end"]).toBeLessThan(2_000);
});

test("the answer is no when replicas never moved, and n/a when no sample succeeded", () => {
  const flat: WatchSample[] = [0, 1000, 2000, 3000].map((atMs) => ({
    atMs,
    currentReplicas: 1,
    desiredReplicas: 1,
    cpuPercent: 20,
    cpuTargetPercent: 50,
    podsReady: 1,
    podsTotal: 1,
  }));
  expect(verdictOf(flat, { "load-start": 500, "load-end": 2500 }).map((v) => v.answer)).toEqual(["no", "n/a", "no"]);
  const stuck: WatchSample[] = [
    { atMs: 0, currentReplicas: 1, desiredReplicas: 1, podsReady: 1, podsTotal: 1 },
    { atMs: 1000, currentReplicas: 3, desiredReplicas: 3, podsReady: 3, podsTotal: 3 },
    { atMs: 3000, currentReplicas: 3, desiredReplicas: 3, podsReady: 3, podsTotal: 3 },
  ];
  expect(verdictOf(stuck, { "load-start": 500, "load-end": 2000 })[1]).toEqual({
    question: "scaled back in after",
    answer: "no",
    evidence: "still 3 replicas at the end of the watch",
  });
  expect(verdictOf([{ atMs: 0, podsReady: 0, podsTotal: 0, error: "x" }], {}).map((v) => v.answer)).toEqual(["n/a", "n/a"]);
});
