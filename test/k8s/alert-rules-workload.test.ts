/**
 * The PrometheusRule in the workload: absent unless the stack says the cluster has the prometheus-operator CRDs
 * (applying it without them fails the deployment), and when present, validated like every other object.
 */
import { buildPipelineManifest, pipelineObjectCatalog, type KubernetesObject } from "../../k8s";
import { configProblems } from "../support/configSource";
import { bindings, secretValues, stackConfig, stackSettings, STACKS } from "./support/fixtures";
import { validateKubernetesObject } from "./support/kubernetesSchema";

const WITH_RULES = { alertRules: "true", alertRuleLabels: JSON.stringify(["release=kube-prometheus-stack"]) };

test.each(STACKS)("%s: no PrometheusRule by default", (stack) => {
  expect(pipelineObjectCatalog(stackSettings(stack)).filter((e) => e.apiVersion.startsWith("monitoring.coreos.com"))).toEqual([]);
});

describe.each(STACKS)("%s with alertRules on", (stack) => {
  const settings = stackSettings(stack, WITH_RULES);
  const objects = buildPipelineManifest(settings, bindings(), secretValues(stack));
  const rule = objects.find((o) => o.kind === "PrometheusRule") as Extract<KubernetesObject, { kind: "PrometheusRule" }>;

  test("the PrometheusRule is in the pipeline's namespace, with the stack's labels, after the namespace", () => {
    expect(rule.metadata).toEqual({
      name: "image-pipeline-alerts",
      namespace: settings.namespace,
      labels: expect.objectContaining({ release: "kube-prometheus-stack", "app.kubernetes.io/instance": "image-pipeline" }),
    });
    expect(pipelineObjectCatalog(settings).find((e) => e.id === "alert-rules")).toMatchObject({
      kind: "PrometheusRule",
      apiVersion: "monitoring.coreos.com/v1",
      after: ["namespace"],
      bound: false,
      secret: false,
    });
    expect(rule.spec.groups[0].rules.map((r) => r.alert)).toEqual([
      "ImagePipelineDeadLetters",
      "ImagePipelineOldestPendingJob",
      "ImagePipelineWebhookErrors",
    ]);
    expect(rule.spec.groups[0].rules[1].expr).toMatch(/> 900$/);
  });

  test("it validates (ObjectMeta schema, promtool check rules), and a broken expression does not", () => {
    expect(() => validateKubernetesObject(rule)).not.toThrow();
    const broken = JSON.parse(JSON.stringify(rule));
    broken.spec.groups[0].rules[0].expr = "max by (namespace (image_pipeline_dead_letters) > 0";
    expect(() => validateKubernetesObject(broken)).toThrow(/promtool check rules/);
    const badLabels = { ...rule, metadata: { ...rule.metadata, labels: { release: 5 } } };
    expect(() => validateKubernetesObject(badLabels)).toThrow(/labels/);
    expect(() => validateKubernetesObject({ ...rule, status: {} })).toThrow(/unknown fields status/);
  });
});

test("a rule label that is not name=value is refused, naming the key", () => {
  expect(configProblems(() => stackConfig("dev", { ...WITH_RULES, alertRuleLabels: JSON.stringify(["release"]) }))).toEqual([
    'image-pipeline:alertRuleLabels: "release" is not a label <name>=<value>. Fix: list labels as name=value in Pulumi.<stack>.yaml, e.g. [release=kube-prometheus-stack]',
  ]);
  expect(configProblems(() => stackConfig("dev", { alertRules: "yes" }))).toEqual([
    'image-pipeline:alertRules: must be true or false, got "yes". Fix: pulumi config set alertRules false',
  ]);
});
