/**
 * The worker's retry budget, S3 timeouts and notification replay window, set on the stack, reach the environment of
 * the pods in the offline plan: through the ConfigMap the Deployments read with envFrom. With alertRules on, the
 * plan has the PrometheusRule, on the k3s provider after the namespace and the readiness gate.
 */
import { planOnce } from "../support/plan";
import { one, type Json } from "./support/planAssertions";
import type { Plan } from "../support/plan";

const plan = planOnce("dev", {
  configOverrides: {
    "image-pipeline:retryBudgetSeconds": "7200",
    "image-pipeline:s3ConnectTimeoutMs": "2500",
    "image-pipeline:s3RequestTimeoutMs": "45000",
    "image-pipeline:notificationMaxAgeSeconds": "86400",
    "image-pipeline:alertRules": "true",
    "image-pipeline:alertRuleLabels": JSON.stringify(["release=kube-prometheus-stack"]),
  },
});

/** The ConfigMap data a Deployment's container reads through envFrom. */
function deploymentEnvironment(p: Plan, name: string): Record<string, string> {
  const deployment = one(p, "kubernetes:apps/v1:Deployment", (r) => (r.inputs as Json).metadata.name === name);
  const container = (deployment.inputs as Json).spec.template.spec.containers[0];
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    if (!source.configMapRef) continue;
    const configMap = one(p, "kubernetes:core/v1:ConfigMap", (r) => (r.inputs as Json).metadata.name === source.configMapRef.name);
    Object.assign(env, (configMap.inputs as Json).data);
  }
  return env;
}

test.each(["image-pipeline-worker", "image-pipeline-webhook"])("%s gets the stack's values in its environment", async (name) => {
  expect(deploymentEnvironment(await plan(), name)).toMatchObject({
    RETRY_BUDGET_SECONDS: "7200",
    S3_CONNECT_TIMEOUT_MS: "2500",
    S3_REQUEST_TIMEOUT_MS: "45000",
    NOTIFICATION_MAX_AGE_SECONDS: "86400",
  });
});

test("alertRules on: the PrometheusRule is a custom resource of the workload, after the namespace and the readiness gate", async () => {
  const p = await plan();
  const rule = one(p, "kubernetes:monitoring.coreos.com/v1:PrometheusRule");
  const inputs = rule.inputs as Json;
  expect(inputs.metadata).toMatchObject({
    name: "image-pipeline-alerts",
    namespace: "image-pipeline",
    labels: { release: "kube-prometheus-stack" },
  });
  expect(inputs.spec.groups[0].rules.map((r: { alert: string }) => r.alert)).toEqual([
    "ImagePipelineDeadLetters",
    "ImagePipelineOldestPendingJob",
    "ImagePipelineWebhookErrors",
  ]);
  const namespace = one(p, "kubernetes:core/v1:Namespace");
  const gate = one(p, "pulumi-nodejs:dynamic/image-pipeline:K3sReadiness");
  expect(rule.dependsOn).toEqual(expect.arrayContaining([namespace.name, gate.name]));
  expect(rule.provider).toBe(one(p, "pulumi:providers:kubernetes").name);
});
