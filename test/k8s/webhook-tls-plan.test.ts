/** The webhook's HTTPS in the offline plans: Traefik's configuration and the topic's push endpoint. */
import { cachedPlan } from "../support/plan-cache";

describe("in the offline plans", () => {
  test("prod declares Traefik's configuration in kube-system and a topic pushing https with verify-ssl; dev neither", async () => {
    // One after the other: the mocked Pulumi runtime is process-wide.
    const dev = await cachedPlan("dev");
    const prod = await cachedPlan("prod");
    const traefik = prod.resources.filter((r) => r.type === "kubernetes:helm.cattle.io/v1:HelmChartConfig");
    expect(traefik.map((r) => r.name)).toEqual(["workload-traefik-config"]);
    expect(traefik[0].inputs.metadata).toEqual({ name: "traefik", namespace: "kube-system" });
    expect(dev.resources.filter((r) => r.type === "kubernetes:helm.cattle.io/v1:HelmChartConfig")).toEqual([]);
    const topic = (plan: typeof prod) => plan.resources.find((r) => r.name === "storage-topic")?.inputs;
    expect(topic(prod)).toMatchObject({ pushEndpoint: "https://pipeline.example.org/notify", verifySsl: true });
    expect(topic(dev)).toMatchObject({ pushEndpoint: "http://203.0.113.10/notify" });
  }, 120_000);
});
