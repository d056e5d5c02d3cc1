/** Policy-style assertions over every object the builders produce, for both stacks. */
import { buildPipelineManifest, objectNames, parseQuantity, POSTGRES_PORT, HTTP_PORT, terminationGraceSeconds } from "../../k8s";
import { bindings, secretValues, stackConfig, stackSettings, STACKS } from "./support/fixtures";
import { egressAllowed, ingressAllowed, type Destination, type PodRef } from "./support/networkPolicy";
import { all, find, podTemplates, type PodTemplate } from "./support/objects";

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

describe.each(STACKS)("%s stack objects", (stack) => {
  const settings = stackSettings(stack);
  const objects = buildPipelineManifest(settings, bindings(), secretValues(stack));
  const pods = podTemplates(objects);
  const names = objectNames(settings);
  const podsOf = (component: string): PodTemplate => {
    const found = pods.filter((p) => p.labels["app.kubernetes.io/component"] === component);
    expect(found).toHaveLength(1);
    return found[0];
  };

  test("every object is namespaced in the pipeline namespace (except the namespace itself) and has valid names and labels", () => {
    for (const o of objects) {
      const name = o.metadata?.name ?? "";
      expect(name.length).toBeLessThanOrEqual(63);
      expect(name).toMatch(DNS_SUBDOMAIN);
      expect(o.metadata?.namespace).toBe(o.kind === "Namespace" ? undefined : settings.namespace);
      for (const [k, v] of Object.entries(o.metadata?.labels ?? {})) {
        expect(k.split("/").pop()!.length).toBeLessThanOrEqual(63);
        expect(v.length).toBeLessThanOrEqual(63);
        expect(v).toMatch(LABEL_VALUE);
      }
    }
  });

  test("the namespace enforces the restricted Pod Security Standard", () => {
    expect(find(objects, "Namespace").metadata?.labels).toMatchObject({ "pod-security.kubernetes.io/enforce": "restricted" });
  });

  test("every pod follows the restricted profile: non-root, read-only root, no escalation, no capabilities, RuntimeDefault seccomp", () => {
    expect(pods.length).toBeGreaterThanOrEqual(3);
    for (const pod of pods) {
      const psc = pod.spec.securityContext ?? {};
      expect([pod.owner, psc.runAsNonRoot]).toEqual([pod.owner, true]);
      expect(psc.runAsUser).toBeGreaterThan(0);
      expect(psc.seccompProfile?.type).toBe("RuntimeDefault");
      for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
        const sc = c.securityContext ?? {};
        expect([
          pod.owner,
          c.name,
          sc.allowPrivilegeEscalation,
          sc.readOnlyRootFilesystem,
          sc.privileged,
          sc.capabilities?.drop,
          sc.capabilities?.add,
        ]).toEqual([pod.owner, c.name, false, true, false, ["ALL"], undefined]);
        expect(sc.runAsUser === undefined || sc.runAsUser > 0).toBe(true);
      }
      // Restricted forbids hostPath and host namespaces.
      expect(pod.spec.hostNetwork ?? false).toBe(false);
      expect(pod.spec.hostPID ?? false).toBe(false);
      for (const v of pod.spec.volumes ?? [])
        expect(Object.keys(v).filter((k) => k !== "name")).toEqual(
          expect.arrayContaining([expect.stringMatching(/^(emptyDir|configMap|secret|persistentVolumeClaim|projected|downwardAPI)$/)]),
        );
    }
  });

  test("no pod can reach the Kubernetes API: token automount is off on every pod and every ServiceAccount", () => {
    for (const sa of all(objects, "ServiceAccount"))
      expect([sa.metadata?.name, sa.automountServiceAccountToken]).toEqual([sa.metadata?.name, false]);
    const saNames = all(objects, "ServiceAccount").map((sa) => sa.metadata?.name);
    for (const pod of pods) {
      expect([pod.owner, pod.spec.automountServiceAccountToken]).toEqual([pod.owner, false]);
      expect(saNames).toContain(pod.spec.serviceAccountName);
    }
  });

  test("every container requests and limits CPU and memory, with requests not above limits", () => {
    for (const pod of pods) {
      for (const c of pod.spec.containers) {
        for (const r of ["cpu", "memory"] as const) {
          const request = parseQuantity(String(c.resources?.requests?.[r]));
          const limit = parseQuantity(String(c.resources?.limits?.[r]));
          expect([pod.owner, r, request !== undefined && request > 0, limit !== undefined && limit > 0]).toEqual([
            pod.owner,
            r,
            true,
            true,
          ]);
          expect(request!).toBeLessThanOrEqual(limit!);
        }
      }
    }
  });

  test("workload selectors match their pod template labels, and selectors use only stable labels", () => {
    for (const pod of pods.filter((p) => p.selector)) {
      for (const [k, v] of Object.entries(pod.selector!)) expect([pod.owner, k, pod.labels[k]]).toEqual([pod.owner, k, v]);
      expect(Object.keys(pod.selector!).sort()).toEqual([
        "app.kubernetes.io/component",
        "app.kubernetes.io/instance",
        "app.kubernetes.io/name",
      ]);
    }
  });

  test("the webhook and worker probe /readyz and /healthz on the http port, which serves on PORT", () => {
    for (const component of ["webhook", "worker"]) {
      const c = podsOf(component).spec.containers[0];
      expect(c.readinessProbe?.httpGet).toEqual({ path: "/readyz", port: "http" });
      expect(c.livenessProbe?.httpGet).toEqual({ path: "/healthz", port: "http" });
      expect(c.ports).toEqual([{ name: "http", containerPort: HTTP_PORT, protocol: "TCP" }]);
      expect(c.args).toEqual([component]);
      // The image's ENTRYPOINT starts the program; overriding it would drop its node flags.
      expect(c.command).toBeUndefined();
    }
    expect(podsOf("migrate").spec.containers[0].args).toEqual(["migrate"]);
  });

  test("pods get longer than the worker's drain before SIGKILL", () => {
    for (const component of ["webhook", "worker"]) {
      expect(podsOf(component).spec.terminationGracePeriodSeconds).toBeGreaterThan(settings.runtime.shutdownGraceSeconds);
    }
    expect(terminationGraceSeconds(settings)).toBeGreaterThan(settings.runtime.shutdownGraceSeconds);
  });

  test("rolling updates never take a serving pod away before its replacement is ready", () => {
    for (const d of all(objects, "Deployment")) {
      expect(d.spec?.strategy).toEqual({ type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    }
  });

  test("the HPA scales the worker Deployment by name, on CPU utilization, within the stack's bounds", () => {
    const hpa = find(objects, "HorizontalPodAutoscaler");
    const worker = find(objects, "Deployment", names.worker);
    expect(hpa.spec?.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: worker.metadata?.name });
    expect(hpa.metadata?.labels).toEqual(worker.metadata?.labels);
    expect(hpa.spec?.metrics).toEqual([
      { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } },
    ]);
    expect([hpa.spec?.minReplicas, hpa.spec?.maxReplicas]).toEqual(stack === "dev" ? [1, 3] : [2, 6]);
    expect(hpa.spec!.minReplicas!).toBeLessThanOrEqual(hpa.spec!.maxReplicas);
    expect(hpa.spec?.behavior?.scaleDown?.stabilizationWindowSeconds).toBe(300);
    // The CPU target is a percentage of the request, so the target container must request CPU.
    expect(worker.spec?.template.spec?.containers[0].resources?.requests?.cpu).toBeDefined();
    // The Deployment leaves the replica count to the HPA.
    expect(worker.spec?.replicas).toBeUndefined();
  });

  test("PodDisruptionBudgets select exactly the webhook and worker pods and allow draining one at a time", () => {
    const pdbs = all(objects, "PodDisruptionBudget");
    expect(pdbs.map((p) => p.metadata?.name).sort()).toEqual([names.webhook, names.worker].sort());
    for (const pdb of pdbs) {
      const selected = pods.filter((p) => Object.entries(pdb.spec?.selector?.matchLabels ?? {}).every(([k, v]) => p.labels[k] === v));
      expect(selected.map((p) => p.owner)).toEqual([`Deployment/${pdb.metadata?.name}`]);
      expect(pdb.spec?.maxUnavailable).toBe(1);
    }
  });

  test("Services and the Ingress route to existing pods and ports", () => {
    for (const svc of all(objects, "Service")) {
      const selected = pods.filter((p) => Object.entries(svc.spec?.selector ?? {}).every(([k, v]) => p.labels[k] === v));
      expect(selected).toHaveLength(1);
      const portNames = selected[0].spec.containers.flatMap((c) => c.ports ?? []).map((p) => p.name);
      for (const port of svc.spec?.ports ?? []) expect(portNames).toContain(port.targetPort);
    }
    const ingress = find(objects, "Ingress");
    expect(ingress.spec?.ingressClassName).toBe("traefik");
    const paths = ingress.spec?.rules?.flatMap((r) => r.http?.paths ?? []) ?? [];
    expect(paths).toEqual([{ path: "/notify", pathType: "Exact", backend: { service: { name: names.webhook, port: { name: "http" } } } }]);
    const svc = find(objects, "Service", names.webhook);
    expect(svc.spec?.ports?.map((p) => p.name)).toContain("http");
  });

  test("pods read their configuration from the ConfigMap and Secret that exist, and roll when they change", () => {
    const configMap = find(objects, "ConfigMap", "image-pipeline-config");
    const secretNames = all(objects, "Secret").map((s) => s.metadata?.name);
    for (const pod of pods.filter((p) => p.labels["app.kubernetes.io/component"] !== "postgres")) {
      const migrate = pod.labels["app.kubernetes.io/component"] === "migrate";
      // With the in-cluster PostgreSQL the migration Job has a Secret of its own: the superuser's URL lives nowhere else.
      expect(pod.spec.containers[0].envFrom).toEqual([
        { configMapRef: { name: configMap.metadata?.name } },
        { secretRef: { name: migrate && stack === "dev" ? names.migrateSecrets : names.secrets } },
      ]);
      // The migration Job's template must not follow them: a changed Job template replaces the Job (k8s/migration.ts).
      expect(Object.keys(pod.annotations).sort()).toEqual(
        migrate ? ["image-pipeline/database"] : ["image-pipeline/config-checksum", "image-pipeline/secrets-checksum"],
      );
    }
    expect(secretNames).toContain(names.secrets);
    if (stack === "dev") expect(secretNames).toContain(names.migrateSecrets);
  });

  describe("NetworkPolicies", () => {
    const policies = all(objects, "NetworkPolicy");
    const ref = (pod: PodTemplate): PodRef => ({
      namespace: pod.namespace,
      labels: pod.labels,
      namedPorts: Object.fromEntries(pod.spec.containers.flatMap((c) => c.ports ?? []).map((p) => [p.name, p.containerPort])),
    });
    const traefik: PodRef = {
      namespace: "kube-system",
      labels: { "app.kubernetes.io/name": "traefik", "app.kubernetes.io/instance": "traefik-kube-system" },
    };
    const impostor: PodRef = { namespace: "default", labels: { "app.kubernetes.io/name": "traefik" } };
    const strangerInNamespace: PodRef = { namespace: settings.namespace, labels: { app: "debug" } };

    test("only the ingress controller reaches the webhook", () => {
      const webhook = ref(podsOf("webhook"));
      expect(ingressAllowed(policies, traefik, webhook, HTTP_PORT)).toBe(true);
      expect(ingressAllowed(policies, traefik, webhook, 9090)).toBe(false);
      expect(ingressAllowed(policies, impostor, webhook, HTTP_PORT)).toBe(false);
      expect(ingressAllowed(policies, ref(podsOf("worker")), webhook, HTTP_PORT)).toBe(false);
      expect(ingressAllowed(policies, strangerInNamespace, webhook, HTTP_PORT)).toBe(false);
    });

    test("nothing reaches the worker", () => {
      const worker = ref(podsOf("worker"));
      for (const from of [traefik, ref(podsOf("webhook")), strangerInNamespace])
        expect(ingressAllowed(policies, from, worker, HTTP_PORT)).toBe(false);
    });

    if (stack === "dev") {
      test("only the webhook, the worker and the migration Job reach PostgreSQL", () => {
        const postgres = ref(podsOf("postgres"));
        for (const component of ["webhook", "worker", "migrate"])
          expect([component, ingressAllowed(policies, ref(podsOf(component)), postgres, POSTGRES_PORT)]).toEqual([component, true]);
        expect(ingressAllowed(policies, ref(podsOf("worker")), postgres, 22)).toBe(false);
        for (const from of [traefik, strangerInNamespace, { ...ref(podsOf("worker")), namespace: "default" }])
          expect(ingressAllowed(policies, from, postgres, POSTGRES_PORT)).toBe(false);
      });
    }
  });

  describe("egress", () => {
    const policies = all(objects, "NetworkPolicy");
    const cfg = stackConfig(stack);
    const ref = (pod: PodTemplate): PodRef => ({ namespace: pod.namespace, labels: pod.labels });
    const coreDns: Destination = { ip: "10.42.0.4", pod: { namespace: "kube-system", labels: { "k8s-app": "kube-dns" } } };
    const traefik: Destination = { ip: "10.42.0.7", pod: { namespace: "kube-system", labels: { "app.kubernetes.io/name": "traefik" } } };
    const s3 = settings.egress.s3Cidrs[0].replace(/\/32$/, "");
    const s3Port = stack === "dev" ? 7480 : 443;
    const stranger: PodRef = { namespace: settings.namespace, labels: { app: "debug" } };
    const clients = ["webhook", "worker", "migrate"];
    const everyPod = [...pods.map(ref), stranger];

    test("the S3 endpoint's port and addresses come from s3Endpoint and s3EgressCidrs", () => {
      expect(settings.egress.s3Port).toBe(s3Port);
      expect(settings.egress.s3Cidrs).toEqual(cfg.storage.egress.cidrs);
      expect(settings.egress.s3Cidrs.length).toBeGreaterThan(0);
    });

    test("the pipeline's pods resolve names at the cluster DNS only, over UDP and TCP 53", () => {
      for (const c of clients) {
        const from = ref(podsOf(c));
        for (const protocol of ["UDP", "TCP"] as const)
          expect([c, protocol, egressAllowed(policies, from, coreDns, 53, protocol)]).toEqual([c, protocol, true]);
        expect([c, egressAllowed(policies, from, coreDns, 9153)]).toEqual([c, false]);
        expect([
          c,
          egressAllowed(policies, from, { ip: "10.42.0.9", pod: { namespace: "default", labels: { "k8s-app": "kube-dns" } } }, 53, "UDP"),
        ]).toEqual([c, false]);
        // Upstream resolvers are CoreDNS's business, not the pods'.
        for (const resolver of cfg.network.dnsNameservers)
          expect([c, resolver, egressAllowed(policies, from, { ip: resolver }, 53, "UDP")]).toEqual([c, resolver, false]);
      }
    });

    test("only the worker reaches the S3 endpoint, and only on its port", () => {
      expect(egressAllowed(policies, ref(podsOf("worker")), { ip: s3 }, s3Port)).toBe(true);
      expect(egressAllowed(policies, ref(podsOf("worker")), { ip: s3 }, 22)).toBe(false);
      expect(egressAllowed(policies, ref(podsOf("worker")), { ip: s3 }, s3Port, "UDP")).toBe(false);
      for (const c of ["webhook", "migrate"]) expect([c, egressAllowed(policies, ref(podsOf(c)), { ip: s3 }, s3Port)]).toEqual([c, false]);
      expect(egressAllowed(policies, stranger, { ip: s3 }, s3Port)).toBe(false);
    });

    test("the database clients reach PostgreSQL and nothing else of the database's", () => {
      const database: Destination =
        stack === "dev"
          ? { ip: "10.42.1.5", pod: { namespace: settings.namespace, labels: podsOf("postgres").labels } }
          : { ip: "192.168.1.50" };
      for (const c of clients) {
        expect([c, egressAllowed(policies, ref(podsOf(c)), database, POSTGRES_PORT)]).toEqual([c, true]);
        expect([c, egressAllowed(policies, ref(podsOf(c)), database, 22)]).toEqual([c, false]);
      }
      expect(egressAllowed(policies, stranger, database, POSTGRES_PORT)).toBe(false);
      if (stack === "prod") expect(egressAllowed(policies, ref(podsOf("worker")), { ip: "192.168.1.51" }, POSTGRES_PORT)).toBe(false);
    });

    test("no pod reaches the metadata service, the nodes (kubelet, API), the API's Service address, other pods or the Internet", () => {
      const forbidden: [string, Destination, number][] = [
        ["metadata", { ip: "169.254.169.254" }, 80],
        ["metadata https", { ip: "169.254.169.254" }, 443],
        ["API Service", { ip: "10.43.0.1" }, 443],
        ["traefik", traefik, 8000],
        ["internet", { ip: "1.1.1.1" }, 443],
        ...cfg.network.privateIps.flatMap((ip): [string, Destination, number][] => [
          [`kubelet ${ip}`, { ip }, 10250],
          [`API ${ip}`, { ip }, 6443],
          [`ssh ${ip}`, { ip }, 22],
        ]),
      ];
      for (const from of everyPod)
        for (const [what, to, port] of forbidden)
          for (const protocol of ["TCP", "UDP"] as const)
            expect([
              from.labels["app.kubernetes.io/component"] ?? "stranger",
              what,
              protocol,
              egressAllowed(policies, from, to, port, protocol),
            ]).toEqual([from.labels["app.kubernetes.io/component"] ?? "stranger", what, protocol, false]);
    });

    test("PostgreSQL's own pod and strangers in the namespace may open no connection at all", () => {
      const isolated = [stranger, ...(stack === "dev" ? [ref(podsOf("postgres"))] : [])];
      for (const from of isolated) {
        expect(egressAllowed(policies, from, coreDns, 53, "UDP")).toBe(false);
        expect(egressAllowed(policies, from, { ip: s3 }, s3Port)).toBe(false);
      }
    });
  });

  test("in-cluster PostgreSQL exists exactly when the stack has no Trove", () => {
    const statefulSets = all(objects, "StatefulSet");
    if (stack === "prod") {
      expect(statefulSets).toEqual([]);
      expect(objects.filter((o) => o.metadata?.name?.startsWith("postgres"))).toEqual([]);
      return;
    }
    const sts = find(objects, "StatefulSet", "postgres");
    const claim = sts.spec?.volumeClaimTemplates?.[0];
    expect(claim?.spec).toEqual({
      accessModes: ["ReadWriteOnce"],
      storageClassName: "local-path",
      resources: { requests: { storage: "5Gi" } },
    });
    const container = sts.spec?.template.spec?.containers[0];
    expect(container?.volumeMounts?.find((m) => m.name === "data")?.mountPath).toBe("/var/lib/postgresql/data");
    expect(container?.env).toContainEqual({
      name: "POSTGRES_PASSWORD",
      valueFrom: { secretKeyRef: { name: names.postgresCredentials, key: "POSTGRES_PASSWORD" } },
    });
    // The image's superuser is postgres; pipeline is the services' own role, which the migration Job creates.
    expect(container?.env).toContainEqual({ name: "POSTGRES_USER", value: "postgres" });
    expect(find(objects, "ConfigMap", "image-pipeline-config").data?.DATABASE_APP_ROLE).toBe("pipeline");
    expect(container?.env).toContainEqual({ name: "POSTGRES_DB", value: "pipeline_db" });
    // The Service name is the host the database component already published.
    const svc = find(objects, "Service", "postgres");
    expect(sts.spec?.serviceName).toBe("postgres");
    expect(svc.spec?.clusterIP).toBe("None");
    expect(find(objects, "Secret", names.postgresCredentials).stringData).toEqual({ POSTGRES_PASSWORD: "s3cr3t-admin" });
  });
});
