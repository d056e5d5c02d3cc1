/** The workload's stack configuration keys: defaults, per-stack values, and one clear problem per mistake. */
import { configProblems } from "../support/configSource";
import { stackConfig } from "./support/fixtures";

function problemsOf(stack: "dev" | "prod", overrides: Record<string, string | undefined>): string[] {
  return configProblems(() => stackConfig(stack, overrides));
}

describe("workload config", () => {
  test("dev deploys a digest-pinned image with 1 to 3 workers", () => {
    const w = stackConfig("dev").workload;
    expect(w.image).toMatch(/@sha256:[0-9a-f]{64}$/);
    expect([w.worker.minReplicas, w.worker.maxReplicas, w.worker.cpuTargetPercent]).toEqual([1, 3, 70]);
    expect(w.namespace).toBe("image-pipeline");
    expect(w.postgres.storageSize).toBe("5Gi");
  });

  test("prod runs the image of its own config (promotion writes it) with 2 to 6 workers and larger requests", () => {
    const w = stackConfig("prod").workload;
    expect(w.image).toMatch(/@sha256:[0-9a-f]{64}$/);
    expect([w.worker.minReplicas, w.worker.maxReplicas]).toEqual([2, 6]);
    expect(w.webhook.replicas).toBe(2);
    expect(w.worker.resources).toEqual({ requests: { cpu: "1", memory: "512Mi" }, limits: { cpu: "1", memory: "1536Mi" } });
  });

  test("an image pinned only by tag is refused, with the way to find its digest", () => {
    expect(problemsOf("dev", { workerImage: "ghcr.io/example-org/image-pipeline-worker:latest" })).toEqual([
      'image-pipeline:workerImage: "ghcr.io/example-org/image-pipeline-worker:latest" is not pinned by digest (a tag can be re-pushed, so what runs would not be what was tested). Fix: pulumi config set workerImage ghcr.io/<org>/image-pipeline-worker@sha256:<digest> (docker buildx imagetools inspect <image:tag> prints the digest)',
    ]);
  });

  test("something that is not an image reference is refused", () => {
    expect(problemsOf("dev", { workerImage: "Not An Image" })[0]).toMatch(
      /^image-pipeline:workerImage: "Not An Image" is not a container image reference\. Fix: /,
    );
  });

  test("prod without an image of its own is refused, naming promotion as the way to get one", () => {
    expect(problemsOf("prod", { workerImage: "" })).toEqual([
      "image-pipeline:workerImage: is required: the worker image this stack runs, pinned by digest (dev: the image the deploy workflow built; prod: the one dev tested, which npm run promote -- --from dev --to prod writes). Fix: pulumi config set workerImage ghcr.io/<org>/image-pipeline-worker@sha256:<digest>",
    ]);
  });

  test("max replicas below min replicas", () => {
    expect(problemsOf("prod", { workerMaxReplicas: "1" })).toEqual([
      "image-pipeline:workerMaxReplicas: 1 is below workerMinReplicas 2. Fix: pulumi config set workerMaxReplicas 2 or lower workerMinReplicas",
    ]);
  });

  test("zero minimum replicas and a CPU target above 100 % are refused", () => {
    const problems = problemsOf("dev", { workerMinReplicas: "0", workerCpuTargetPercent: "150" });
    expect(problems).toEqual([
      'image-pipeline:workerMinReplicas: must be a whole number from 1 to 100, got "0". Fix: pulumi config set workerMinReplicas 1',
      'image-pipeline:workerCpuTargetPercent: must be a whole number from 1 to 100, got "150". Fix: pulumi config set workerCpuTargetPercent 70',
    ]);
  });

  test("resources: a malformed quantity names the exact key", () => {
    expect(problemsOf("dev", { workerCpuRequest: "lots" })).toEqual([
      'image-pipeline:workerCpuRequest: "lots" is not a positive Kubernetes quantity. Fix: pulumi config set workerCpuRequest 250m',
    ]);
  });

  test("resources: a request above its limit is refused before the API server would", () => {
    expect(problemsOf("dev", { webhookMemoryRequest: "2Gi" })).toEqual([
      "image-pipeline:webhookMemoryRequest: 2Gi exceeds webhookMemoryLimit 256Mi. Fix: lower the request or raise the limit (the API server rejects requests above limits)",
    ]);
  });

  test("resources: each key has its own default", () => {
    const w = stackConfig("dev", { workerMemoryLimit: "2Gi" }).workload;
    expect(w.worker.resources).toEqual({ requests: { cpu: "1", memory: "384Mi" }, limits: { cpu: "1", memory: "2Gi" } });
    expect(w.postgres.resources).toEqual({ requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } });
  });

  test("resources: a zero limit is refused", () => {
    expect(problemsOf("dev", { postgresCpuLimit: "0" })).toEqual([
      'image-pipeline:postgresCpuLimit: "0" is not a positive Kubernetes quantity. Fix: pulumi config set postgresCpuLimit 1',
    ]);
  });

  test("namespace, PostgreSQL volume size and reconcile mode are validated", () => {
    expect(problemsOf("dev", { kubernetesNamespace: "Image_Pipeline", postgresStorageSize: "100Mi", reconcileMode: "sometimes" })).toEqual([
      'image-pipeline:kubernetesNamespace: must be a DNS label (lower-case letters, digits and "-", at most 63), got "Image_Pipeline". Fix: pulumi config set kubernetesNamespace image-pipeline',
      'image-pipeline:postgresStorageSize: must be a Kubernetes quantity of at least 1Gi, got "100Mi". Fix: pulumi config set postgresStorageSize 10Gi',
      'image-pipeline:reconcileMode: must be one of notifications, poll, both, got "sometimes". Fix: pulumi config set reconcileMode both',
    ]);
  });

  test("the worker's retry budget, S3 timeouts and replay window default to the image's own and keep its bounds", () => {
    const w = stackConfig("dev").workload;
    expect([w.retryBudgetSeconds, w.s3ConnectTimeoutMs, w.s3RequestTimeoutMs, w.notificationMaxAgeSeconds]).toEqual([
      21600, 5000, 30000, 604800,
    ]);
    expect(
      problemsOf("dev", { retryBudgetSeconds: "0", s3ConnectTimeoutMs: "50", s3RequestTimeoutMs: "soon", notificationMaxAgeSeconds: "10" }),
    ).toEqual([
      'image-pipeline:retryBudgetSeconds: must be a whole number from 1 to 2592000, got "0". Fix: pulumi config set retryBudgetSeconds 21600',
      'image-pipeline:s3ConnectTimeoutMs: must be a whole number from 100 to 600000, got "50". Fix: pulumi config set s3ConnectTimeoutMs 5000',
      'image-pipeline:s3RequestTimeoutMs: must be a whole number from 100 to 3600000, got "soon". Fix: pulumi config set s3RequestTimeoutMs 30000',
      'image-pipeline:notificationMaxAgeSeconds: must be a whole number from 60 to 31536000, got "10". Fix: pulumi config set notificationMaxAgeSeconds 604800',
    ]);
  });
});
