/** The webhook's HTTPS: the Ingress asks Traefik's ACME resolver for the host name's certificate, which k3s's Traefik is configured for. */
import { parse as parseYaml } from "yaml";
import { buildPipelineObjects } from "../../k8s";
import { buildTraefikHelmChartConfig, TRAEFIK_ACME_STORAGE } from "../../k8s/traefik";
import { bindings, stackSettings } from "./support/fixtures";
import { find } from "./support/objects";
import { validateKubernetesObject } from "./support/kubernetesSchema";

const ingressOf = (settings: ReturnType<typeof stackSettings>) =>
  find(Object.values(buildPipelineObjects(settings, bindings())), "Ingress");

describe("with webhookHostName (prod)", () => {
  const settings = stackSettings("prod", { webhookHostName: "pipeline.example.org", acmeEmail: "ops@example.org" });

  test("the Ingress serves only the host name, on websecure, with a certificate from the letsencrypt resolver", () => {
    const ingress = ingressOf(settings);
    expect(ingress.metadata?.annotations).toEqual({
      "traefik.ingress.kubernetes.io/router.entrypoints": "websecure",
      "traefik.ingress.kubernetes.io/router.tls": "true",
      "traefik.ingress.kubernetes.io/router.tls.certresolver": "letsencrypt",
    });
    expect(ingress.spec?.tls).toEqual([{ hosts: ["pipeline.example.org"] }]);
    expect(ingress.spec?.rules?.map((r) => r.host)).toEqual(["pipeline.example.org"]);
    validateKubernetesObject(ingress);
  });

  test("Traefik gets the ACME resolver (HTTP-01 on web), its account and certificates on a persistent volume", () => {
    const config = buildTraefikHelmChartConfig(settings);
    expect(config.metadata).toEqual({ name: "traefik", namespace: "kube-system" });
    validateKubernetesObject(config);
    const values = parseYaml(config.spec.valuesContent) as Record<string, Record<string, unknown>>;
    expect(values.certificatesResolvers).toEqual({
      letsencrypt: {
        acme: {
          email: "ops@example.org",
          storage: TRAEFIK_ACME_STORAGE,
          caServer: "https://acme-v02.api.letsencrypt.org/directory",
          httpChallenge: { entryPoint: "web" },
        },
      },
    });
    expect(values.persistence).toMatchObject({ enabled: true, path: "/data", storageClass: "local-path", accessMode: "ReadWriteOnce" });
    expect(TRAEFIK_ACME_STORAGE.startsWith(`${values.persistence.path as string}/`)).toBe(true);
  });

  test("the staging directory and no contact address are passed through as set", () => {
    const staging = stackSettings("prod", {
      webhookHostName: "pipeline.example.org",
      acmeCaServer: "https://acme-staging-v02.api.letsencrypt.org/directory",
    });
    const acme = (
      parseYaml(buildTraefikHelmChartConfig(staging).spec.valuesContent) as { certificatesResolvers: { letsencrypt: { acme: object } } }
    ).certificatesResolvers.letsencrypt.acme;
    expect(acme).toEqual({
      storage: TRAEFIK_ACME_STORAGE,
      caServer: "https://acme-staging-v02.api.letsencrypt.org/directory",
      httpChallenge: { entryPoint: "web" },
    });
  });
});

describe("with webhookPlainHttp (dev)", () => {
  const settings = stackSettings("dev");

  test("the Ingress stays on the web entry point for any host, and Traefik is left as k3s ships it", () => {
    const ingress = ingressOf(settings);
    expect(ingress.metadata?.annotations).toBeUndefined();
    expect(ingress.spec?.tls).toBeUndefined();
    expect(ingress.spec?.rules?.map((r) => r.host)).toEqual([undefined]);
    expect(() => buildTraefikHelmChartConfig(settings)).toThrow(/plain HTTP/);
  });
});
