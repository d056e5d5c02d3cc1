import { parse, parseAllDocuments } from "yaml";
import { buildPipelineManifest, pipelineObjectCatalog, toMultiDocumentYaml } from "../../k8s";
import { bindings, secretValues, stackSettings, STACKS } from "./support/fixtures";
import { validateKubernetesObject } from "./support/kubernetesSchema";

describe.each(STACKS)("%s: every object validates against the Kubernetes v1.33 schema", (stack) => {
  const settings = stackSettings(stack);
  const objects = buildPipelineManifest(settings, bindings(), secretValues(stack));

  test.each(objects.map((o) => [`${o.kind} ${o.metadata?.name}`, o] as const))("%s", (_label, object) => {
    expect(() => validateKubernetesObject(object)).not.toThrow();
  });

  test("the catalog lists exactly the built objects, in the same order and of the declared kinds", () => {
    const catalog = pipelineObjectCatalog(settings);
    expect(objects.map((o) => `${o.apiVersion}/${o.kind}`)).toEqual(catalog.map((e) => `${e.apiVersion}/${e.kind}`));
  });

  test("the rendered YAML parses back, one object per document, and each document still validates", () => {
    const docs = parseAllDocuments(toMultiDocumentYaml(objects));
    expect(docs.map((d) => d.errors)).toEqual(objects.map(() => []));
    const parsed = docs.map((d) => d.toJS());
    expect(parsed.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(objects.map((o) => `${o.kind}/${o.metadata?.name}`));
    for (const o of parsed) validateKubernetesObject(o);
  });
});

describe("the schema validation is not a rubber stamp", () => {
  const objects = buildPipelineManifest(stackSettings("dev"), bindings(), secretValues("dev"));
  const deployment = () => JSON.parse(JSON.stringify(objects.find((o) => o.kind === "Deployment")));

  test("a malformed quantity is rejected", () => {
    const d = deployment();
    d.spec.template.spec.containers[0].resources.limits.cpu = "one core";
    expect(() => validateKubernetesObject(d)).toThrow(/resources\/limits\/cpu must match format "quantity"/);
  });

  test("a container without a name is rejected", () => {
    const d = deployment();
    delete d.spec.template.spec.containers[0].name;
    expect(() => validateKubernetesObject(d)).toThrow(/must have required property 'name'|must have required property name/);
  });

  test("a Deployment without a selector is rejected", () => {
    const d = deployment();
    delete d.spec.selector;
    expect(() => validateKubernetesObject(d)).toThrow(/selector/);
  });

  test("an unknown kind is not silently accepted", () => {
    expect(() => validateKubernetesObject(parse("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n"))).toThrow(/no schema for v1\/Pod/);
  });
});
