import { restrictedPodsPolicy } from "../../../policy/kubernetes/restrictedPods";
import { KUBERNETES } from "../../../policy/resourceTypes";
import { resourceViolations } from "../support/policyHarness";

const restrictedContainer = (name: string, over: Record<string, unknown> = {}) => ({
  name,
  image: "ghcr.io/example-org/image-pipeline-worker@sha256:" + "a".repeat(64),
  securityContext: {
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  },
  resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } },
  ...over,
});
const podSpec = (over: Record<string, unknown> = {}) => ({
  securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } },
  containers: [restrictedContainer("worker")],
  volumes: [{ name: "tmp", emptyDir: {} }],
  ...over,
});
const deployment = (spec: Record<string, unknown>) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "worker" },
  spec: { selector: {}, template: { metadata: {}, spec } },
});
const check = (type: string, props: Record<string, unknown>, config: Record<string, unknown> = {}) =>
  resourceViolations(restrictedPodsPolicy, type, props, config);

describe("pods-restricted-with-requests", () => {
  test("passes a restricted Deployment, StatefulSet, Job, CronJob and bare Pod", async () => {
    expect(await check(KUBERNETES.deployment, deployment(podSpec()))).toEqual([]);
    expect(
      await check(
        KUBERNETES.statefulSet,
        deployment(podSpec({ volumes: [{ name: "data", persistentVolumeClaim: { claimName: "data" } }] })),
      ),
    ).toEqual([]);
    expect(await check(KUBERNETES.job, { spec: { template: { spec: podSpec({ restartPolicy: "Never" }) } } })).toEqual([]);
    expect(
      await check(KUBERNETES.cronJob, { spec: { schedule: "@hourly", jobTemplate: { spec: { template: { spec: podSpec() } } } } }),
    ).toEqual([]);
    expect(await check(KUBERNETES.pod, { spec: podSpec() })).toEqual([]);
  });

  test("accepts runAsNonRoot and seccomp set on the container only", async () => {
    const spec = podSpec({ securityContext: {} });
    expect(await check(KUBERNETES.deployment, deployment(spec))).toEqual([]);
  });

  test("checks init containers too", async () => {
    const init = restrictedContainer("migrate", {
      securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
      resources: {},
    });
    const messages = await check(KUBERNETES.deployment, deployment(podSpec({ securityContext: {}, initContainers: [init] })));
    expect(messages).toEqual([
      "initContainer migrate: runAsNonRoot must be true (on the container or the pod)",
      "initContainer migrate: seccompProfile.type must be RuntimeDefault or Localhost (on the container or the pod), got none",
      "initContainer migrate: no resources.requests.cpu or memory. Fix: set requests (the HPA's CPU target is relative to them)",
    ]);
  });

  test("fails each restricted-profile field with the container named", async () => {
    const bad = restrictedContainer("worker", {
      securityContext: {
        privileged: true,
        runAsUser: 0,
        capabilities: { add: ["SYS_ADMIN", "NET_BIND_SERVICE"] },
        seccompProfile: { type: "Unconfined" },
      },
      ports: [{ containerPort: 8080, hostPort: 8080 }],
    });
    const messages = await check(KUBERNETES.deployment, deployment(podSpec({ containers: [bad] })));
    expect(messages).toEqual([
      "container worker: privileged: true. Fix: remove it",
      "container worker: securityContext.allowPrivilegeEscalation must be false",
      "container worker: securityContext.capabilities.drop must include ALL",
      "container worker: adds capabilities SYS_ADMIN; only NET_BIND_SERVICE is allowed",
      "container worker: runAsUser is 0 (root). Fix: run as a non-zero UID",
      "container worker: seccompProfile.type must be RuntimeDefault or Localhost (on the container or the pod), got Unconfined",
      "container worker: securityContext.readOnlyRootFilesystem must be true (mount an emptyDir where it writes)",
      "container worker: hostPort 8080 is forbidden. Fix: expose it through a Service",
    ]);
  });

  test("fails host namespaces and hostPath volumes at pod level", async () => {
    const messages = await check(
      KUBERNETES.daemonSet,
      deployment(podSpec({ hostNetwork: true, hostPID: true, volumes: [{ name: "host", hostPath: { path: "/var/run" } }] })),
    );
    expect(messages).toEqual([
      "pod sets hostNetwork: true. Fix: remove it (host namespaces are forbidden)",
      "pod sets hostPID: true. Fix: remove it (host namespaces are forbidden)",
      "volume host uses hostPath. Fix: use a configMap, secret, emptyDir, projected or persistentVolumeClaim volume",
    ]);
  });

  test("fails a container without requests, and a pod running as root", async () => {
    const noRequests = restrictedContainer("webhook", { resources: { limits: { cpu: "1", memory: "256Mi" } } });
    const messages = await check(
      KUBERNETES.deployment,
      deployment(
        podSpec({
          securityContext: { runAsNonRoot: true, runAsUser: 0, seccompProfile: { type: "RuntimeDefault" } },
          containers: [noRequests],
        }),
      ),
    );
    expect(messages).toEqual([
      "pod runAsUser is 0 (root). Fix: run as a non-zero UID",
      expect.stringContaining("container webhook: no resources.requests.cpu or memory"),
    ]);
  });

  test("the read-only root filesystem and the required requests are configurable", async () => {
    const writable = restrictedContainer("worker", {
      securityContext: {
        allowPrivilegeEscalation: false,
        runAsNonRoot: true,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
      },
      resources: { requests: { cpu: "100m" } },
    });
    const spec = deployment(podSpec({ containers: [writable] }));
    expect(await check(KUBERNETES.deployment, spec)).toHaveLength(2);
    expect(await check(KUBERNETES.deployment, spec, { requireReadOnlyRootFilesystem: false, requiredRequests: ["cpu"] })).toEqual([]);
  });

  test("ignores non-pod resources", async () => {
    expect(await check(KUBERNETES.configMap, { data: { a: "b" } })).toEqual([]);
    expect(await check(KUBERNETES.hpaV2, { spec: { minReplicas: 1 } })).toEqual([]);
  });
});

describe("pods-restricted-with-requests: /proc, sysctls, AppArmor, SELinux and host processes", () => {
  const withSecurity = (sc: Record<string, unknown>) =>
    restrictedContainer("worker", { securityContext: { ...restrictedContainer("worker").securityContext, ...sc } });
  const withTemplateAnnotations = (annotations: Record<string, string>) => ({
    ...deployment(podSpec()),
    spec: { selector: {}, template: { metadata: { annotations }, spec: podSpec() } },
  });

  test("accepts what the restricted profile allows", async () => {
    const allowed = podSpec({
      securityContext: {
        runAsNonRoot: true,
        seccompProfile: { type: "RuntimeDefault" },
        sysctls: [{ name: "net.ipv4.ip_unprivileged_port_start", value: "0" }],
        seLinuxOptions: { type: "container_t", level: "s0:c123,c456" },
        appArmorProfile: { type: "RuntimeDefault" },
        windowsOptions: { hostProcess: false },
      },
      containers: [withSecurity({ procMount: "Default", appArmorProfile: { type: "Localhost", localhostProfile: "p" } })],
    });
    expect(await check(KUBERNETES.deployment, deployment(allowed))).toEqual([]);
    expect(
      await check(
        KUBERNETES.deployment,
        withTemplateAnnotations({ "container.apparmor.security.beta.kubernetes.io/worker": "localhost/p" }),
      ),
    ).toEqual([]);
  });

  test("fails each forbidden value, at pod and container level", async () => {
    const forbidden = podSpec({
      securityContext: {
        runAsNonRoot: true,
        seccompProfile: { type: "RuntimeDefault" },
        sysctls: [{ name: "kernel.msgmax", value: "65536" }],
        seLinuxOptions: { user: "system_u", role: "system_r" },
        appArmorProfile: { type: "Unconfined" },
        windowsOptions: { hostProcess: true },
      },
      containers: [withSecurity({ procMount: "Unmasked", seLinuxOptions: { type: "spc_t" }, windowsOptions: { hostProcess: true } })],
    });
    expect(await check(KUBERNETES.deployment, deployment(forbidden))).toEqual([
      "pod sets sysctl kernel.msgmax, which is not namespaced to the pod (it can change the node). Fix: remove it",
      "pod: appArmorProfile.type is Unconfined, which turns off the node's AppArmor confinement. Fix: RuntimeDefault (or remove it)",
      "pod: windowsOptions.hostProcess is true, which runs the container as a process on the node. Fix: remove it",
      "pod: seLinuxOptions.user is set; a custom SELinux user is forbidden. Fix: remove it",
      "pod: seLinuxOptions.role is set; a custom SELinux role is forbidden. Fix: remove it",
      "container worker: securityContext.procMount is Unmasked, which unmasks /proc. Fix: remove it (Default)",
      "container worker: windowsOptions.hostProcess is true, which runs the container as a process on the node. Fix: remove it",
      "container worker: seLinuxOptions.type spc_t is a custom SELinux type. Fix: remove seLinuxOptions (or use container_t)",
    ]);
  });

  test("fails the AppArmor annotation set to unconfined", async () => {
    expect(
      await check(
        KUBERNETES.deployment,
        withTemplateAnnotations({ "container.apparmor.security.beta.kubernetes.io/worker": "unconfined" }),
      ),
    ).toEqual([
      "pod annotation container.apparmor.security.beta.kubernetes.io/worker is unconfined, which turns off AppArmor for that container. Fix: runtime/default (or remove it)",
    ]);
  });
});
