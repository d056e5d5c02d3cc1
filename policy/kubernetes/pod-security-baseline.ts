/**
 * The Pod Security Standard controls on security-context fields that the pipeline never sets but a changed
 * builder or a copied manifest could: /proc masks, sysctls, AppArmor, SELinux and Windows host processes. Each
 * follows the check of the same name in Kubernetes' own Pod Security Admission
 * (github.com/kubernetes/pod-security-admission, policy/check_*.go), at the level the restricted profile
 * enforces for Kubernetes 1.32 and newer.
 */
import { field, isRecord, records, type Props } from "../values";
import type { NamedContainer } from "./podSpecs";

/**
 * Sysctls PSA allows from Kubernetes 1.32 (policy/check_sysctls.go): namespaced in the pod and isolated from other
 * pods on the node. Anything else can change the node for every pod on it.
 */
export const SAFE_SYSCTLS: ReadonlySet<string> = new Set([
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
  "net.ipv4.tcp_rmem",
  "net.ipv4.tcp_wmem",
]);

/** SELinux types a pod may ask for (policy/check_seLinuxOptions.go, 1.31+); "" leaves the runtime's default. */
export const ALLOWED_SELINUX_TYPES: ReadonlySet<string> = new Set([
  "",
  "container_t",
  "container_init_t",
  "container_kvm_t",
  "container_engine_t",
]);

const ALLOWED_APPARMOR_TYPES = new Set(["RuntimeDefault", "Localhost"]);
/** The annotation form AppArmor profiles had before the securityContext field (deprecated, still honoured). */
const APPARMOR_ANNOTATION_PREFIX = "container.apparmor.security.beta.kubernetes.io/";

function appArmorProblem(owner: string, securityContext: unknown): string | undefined {
  const type = field(securityContext, "appArmorProfile", "type");
  if (type === undefined || ALLOWED_APPARMOR_TYPES.has(String(type))) return undefined;
  return `${owner}: appArmorProfile.type is ${String(type)}, which turns off the node's AppArmor confinement. Fix: RuntimeDefault (or remove it)`;
}

function seLinuxProblems(owner: string, securityContext: unknown): string[] {
  const options = field(securityContext, "seLinuxOptions");
  if (!isRecord(options)) return [];
  const problems: string[] = [];
  const type = typeof options.type === "string" ? options.type : "";
  if (!ALLOWED_SELINUX_TYPES.has(type))
    problems.push(`${owner}: seLinuxOptions.type ${type} is a custom SELinux type. Fix: remove seLinuxOptions (or use container_t)`);
  for (const key of ["user", "role"] as const) {
    if (typeof options[key] === "string" && options[key] !== "")
      problems.push(`${owner}: seLinuxOptions.${key} is set; a custom SELinux ${key} is forbidden. Fix: remove it`);
  }
  return problems;
}

function hostProcessProblem(owner: string, securityContext: unknown): string | undefined {
  if (field(securityContext, "windowsOptions", "hostProcess") !== true) return undefined;
  return `${owner}: windowsOptions.hostProcess is true, which runs the container as a process on the node. Fix: remove it`;
}

/** Violations of the fields above, for a pod spec, its containers and its template metadata. */
export function baselineFieldViolations(podSpec: Props, containers: readonly NamedContainer[], podMetadata?: Props): string[] {
  const problems: string[] = [];
  const pod = podSpec.securityContext;

  for (const sysctl of records(field(pod, "sysctls"))) {
    const name = String(sysctl.name ?? "");
    if (!SAFE_SYSCTLS.has(name))
      problems.push(`pod sets sysctl ${name}, which is not namespaced to the pod (it can change the node). Fix: remove it`);
  }
  problems.push(...[appArmorProblem("pod", pod), hostProcessProblem("pod", pod)].filter((p): p is string => p !== undefined));
  problems.push(...seLinuxProblems("pod", pod));

  for (const { label, container } of containers) {
    const sc = container.securityContext;
    const procMount = field(sc, "procMount");
    if (procMount !== undefined && procMount !== null && procMount !== "Default")
      problems.push(`${label}: securityContext.procMount is ${String(procMount)}, which unmasks /proc. Fix: remove it (Default)`);
    problems.push(...[appArmorProblem(label, sc), hostProcessProblem(label, sc)].filter((p): p is string => p !== undefined));
    problems.push(...seLinuxProblems(label, sc));
  }

  const annotations = field(podMetadata, "annotations");
  if (isRecord(annotations)) {
    for (const [key, value] of Object.entries(annotations)) {
      if (!key.startsWith(APPARMOR_ANNOTATION_PREFIX) || typeof value !== "string") continue;
      if (value !== "" && value !== "runtime/default" && !value.startsWith("localhost/"))
        problems.push(
          `pod annotation ${key} is ${value}, which turns off AppArmor for that container. Fix: runtime/default (or remove it)`,
        );
    }
  }
  return problems;
}
