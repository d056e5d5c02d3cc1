/**
 * k3s's bundled Traefik, configured for the webhook's HTTPS: a `HelmChartConfig` (helm.cattle.io/v1) named after
 * the bundled chart in kube-system, whose `valuesContent` k3s's helm controller merges into the chart's values
 * (docs.k3s.io, "Customizing Packaged Components with HelmChartConfig"). It adds an ACME certificate resolver
 * answering Let's Encrypt's HTTP-01 challenge on the `web` entry point (port 80), and keeps its account and
 * certificates on a persistent volume, so a restarted Traefik does not ask again (Let's Encrypt's rate limits last
 * up to a week). acme.json must be mode 0600 or Traefik refuses it. Traefik creates it so; what turned it
 * group-readable on a remounted volume (traefik-helm-chart issue 396) is the kubelet applying fsGroup to every file
 * at each mount, which `fsGroupChangePolicy: OnRootMismatch` limits to a volume whose root does not match yet. k3s's
 * local-path volumes are host directories created world-writable, on which the kubelet applies no fsGroup at all.
 */
import { stringify } from "yaml";
import type { IngressTlsSettings, PipelineWorkloadSettings } from "./settings";

export const TRAEFIK_ACME_STORAGE = "/data/acme.json";
/** Traefik's image runs as 65532; the chart's default pod security context uses it. */
const TRAEFIK_UID = 65532;

export interface HelmChartConfigObject {
  readonly apiVersion: "helm.cattle.io/v1";
  readonly kind: "HelmChartConfig";
  readonly metadata: { readonly name: string; readonly namespace: string };
  readonly spec: { readonly valuesContent: string };
}

/** The chart values the HelmChartConfig carries, as an object (for tests) before they are serialised. */
export function traefikAcmeValues(tls: IngressTlsSettings): Record<string, unknown> {
  return {
    persistence: { enabled: true, name: "data", accessMode: "ReadWriteOnce", size: "128Mi", storageClass: "local-path", path: "/data" },
    podSecurityContext: { fsGroup: TRAEFIK_UID, fsGroupChangePolicy: "OnRootMismatch" },
    certificatesResolvers: {
      [tls.certResolver]: {
        acme: {
          ...(tls.acmeEmail ? { email: tls.acmeEmail } : {}),
          storage: TRAEFIK_ACME_STORAGE,
          caServer: tls.acmeCaServer,
          httpChallenge: { entryPoint: "web" },
        },
      },
    },
  };
}

export function buildTraefikHelmChartConfig(s: PipelineWorkloadSettings): HelmChartConfigObject {
  const tls = s.ingress.tls;
  if (!tls) throw new Error("buildTraefikHelmChartConfig: the stack serves the webhook over plain HTTP (no ingress.tls)");
  return {
    apiVersion: "helm.cattle.io/v1",
    kind: "HelmChartConfig",
    // The bundled chart's own name and namespace: k3s applies a HelmChartConfig only to the HelmChart of that name.
    metadata: { name: "traefik", namespace: s.ingress.controllerNamespace },
    spec: { valuesContent: stringify(traefikAcmeValues(tls), { lineWidth: 0 }) },
  };
}
