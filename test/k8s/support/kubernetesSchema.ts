/**
 * Validation of plain objects against the official Kubernetes OpenAPI schemas, as packaged by kubernetes-models
 * 4.5.1 (Kubernetes v1.33.0). kubectl cannot validate offline (it needs an API server); these schemas are the same
 * ones the API server publishes. A PrometheusRule (a custom resource, whose schema ships with prometheus-operator's
 * CRD) has its metadata checked against ObjectMeta's schema and its rule groups by Prometheus' own checker,
 * `promtool check rules`, which parses them as the operator's admission webhook does. KEDA's ScaledObject and
 * TriggerAuthentication are checked against the CRD schemas of the KEDA release the stack installs.
 */
import { ObjectMeta } from "@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta";
import Ajv from "ajv";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { stringify, parse as parseYaml } from "yaml";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { StatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import { Job } from "kubernetes-models/batch/v1/Job";
import { Ingress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";

/** A PrometheusRule: ObjectMeta's schema, exactly apiVersion/kind/metadata/spec, and rule groups promtool accepts. */
class PrometheusRuleModel {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  constructor(private readonly data: any) {}

  validate(): void {
    const extra = Object.keys(this.data).filter((k) => !["apiVersion", "kind", "metadata", "spec"].includes(k));
    if (extra.length > 0) throw new Error(`unknown fields ${extra.join(", ")}`);
    new ObjectMeta(this.data.metadata).validate();
    if (!this.data.metadata?.name || !this.data.metadata?.namespace) throw new Error("metadata needs a name and a namespace");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "prometheus-rule-"));
    try {
      fs.writeFileSync(path.join(dir, "rules.yaml"), stringify(this.data.spec));
      const r = spawnSync("promtool", ["check", "rules", "rules.yaml"], { cwd: dir, encoding: "utf8" });
      if (r.error) throw new Error(`promtool could not run (${r.error.message}); install Debian's prometheus package`);
      if (r.status !== 0) throw new Error(`promtool check rules: ${r.stdout}${r.stderr}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}

/**
 * A custom resource checked against its CRD's openAPIV3Schema, vendored from the operator's release
 * (test/k8s/schemas/<operator>/<Kind>.json, each naming its source). The API server prunes fields a structural
 * schema does not declare, silently, so a misspelt field would vanish: here every object that declares its
 * properties refuses others, unless the schema preserves unknown fields.
 */
function crdModel(schemaFile: string): ModelClass {
  const crd = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "schemas", schemaFile), "utf8")) as { openAPIV3Schema: object };
  const strict = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strict);
    if (node === null || typeof node !== "object") return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) out[k] = k === "enum" || k === "required" ? v : strict(v);
    if (out.properties !== undefined && out.additionalProperties === undefined && out["x-kubernetes-preserve-unknown-fields"] !== true)
      out.additionalProperties = false;
    return out;
  };
  const schema = strict(crd.openAPIV3Schema) as Record<string, unknown>;
  // metadata is `type: object` in every CRD: the API server checks it as ObjectMeta, and so does validate() below.
  (schema.properties as Record<string, unknown>).metadata = { type: "object" };
  const ajv = new Ajv({ strict: false, allErrors: true, formats: { int32: true, int64: true, "date-time": true } });
  const check = ajv.compile(schema);
  return class {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    constructor(private readonly data: any) {}

    validate(): void {
      new ObjectMeta(this.data.metadata).validate();
      if (!this.data.metadata?.name || !this.data.metadata?.namespace) throw new Error("metadata needs a name and a namespace");
      if (!check(this.data)) throw new Error(ajv.errorsText(check.errors, { dataVar: "" }));
    }
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ModelClass = new (data: any) => { validate(): void };

/**
 * k3s's HelmChartConfig (helm.cattle.io/v1, the helm controller's CRD): a spec of `valuesContent` (a YAML
 * document of chart values) and optionally `failurePolicy`; metadata checked as ObjectMeta, and the values must
 * parse as a YAML mapping, as the helm controller requires.
 */
class HelmChartConfigModel {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  constructor(private readonly data: any) {}

  validate(): void {
    new ObjectMeta(this.data.metadata).validate();
    if (!this.data.metadata?.name || !this.data.metadata?.namespace) throw new Error("metadata needs a name and a namespace");
    const spec = this.data.spec ?? {};
    for (const key of Object.keys(spec))
      if (!["valuesContent", "failurePolicy"].includes(key)) throw new Error(`spec.${key} is not a HelmChartConfig field`);
    if (typeof spec.valuesContent !== "string") throw new Error("spec.valuesContent must be a string");
    const values: unknown = parseYaml(spec.valuesContent);
    if (values === null || typeof values !== "object" || Array.isArray(values))
      throw new Error("spec.valuesContent must be a YAML mapping");
  }
}

const MODELS: Record<string, ModelClass> = {
  "v1/Namespace": Namespace,
  "v1/ServiceAccount": ServiceAccount,
  "v1/Secret": Secret,
  "v1/ConfigMap": ConfigMap,
  "v1/Service": Service,
  "apps/v1/Deployment": Deployment,
  "apps/v1/StatefulSet": StatefulSet,
  "batch/v1/Job": Job,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "networking.k8s.io/v1/Ingress": Ingress,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "monitoring.coreos.com/v1/PrometheusRule": PrometheusRuleModel,
  "helm.cattle.io/v1/HelmChartConfig": HelmChartConfigModel,
  "keda.sh/v1alpha1/ScaledObject": crdModel("keda/ScaledObject.json"),
  "keda.sh/v1alpha1/TriggerAuthentication": crdModel("keda/TriggerAuthentication.json"),
};

/** Throws with the schema's message when the object is invalid or of a kind we do not know. */
export function validateKubernetesObject(object: unknown): void {
  const o = object as { apiVersion?: string; kind?: string; metadata?: { name?: string } };
  const key = `${o.apiVersion}/${o.kind}`;
  const Model = MODELS[key];
  if (!Model) throw new Error(`no schema for ${key}`);
  try {
    new Model(object).validate();
  } catch (err) {
    throw new Error(`${key} ${o.metadata?.name ?? "(unnamed)"}: ${(err as Error).message}`);
  }
}
