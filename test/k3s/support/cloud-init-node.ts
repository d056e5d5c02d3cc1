/**
 * Boots one node's user data under real cloud-init in a podman container: the NoCloud seed, the four stages
 * run by hand, the node's private address on an `ens3` interface the harness creates, and stubs first on PATH
 * for what must not leave the machine (curl serving a stub k3s installer and the server's /cacerts; systemctl,
 * as a container has no systemd). See cloud-init-harness/ for the stubs and the fake k3s.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Podman } from "../../../scripts/image/podman";

const HARNESS_FILES = path.join(__dirname, "cloud-init-harness");
export const STAGES = ["init --local", "init", "modules --mode=config", "modules --mode=final"] as const;
/** The harness's own cloud.cfg.d: NoCloud only, no network configuration, a locale minbase has. */
/** What the stub curl serves as the airgap images archive (the bootstrap only checks its hash and puts it in place). */
export const STUB_AIRGAP_IMAGES = "stub k3s airgap images\n";
/** The harness files the stub curl serves at the installer and binary URLs. */
export const HARNESS_INSTALLER_PATH = path.join(HARNESS_FILES, "installer.sh");
export const HARNESS_K3S_PATH = path.join(HARNESS_FILES, "k3s");
export const HARNESS_CLOUD_CFG = ["datasource_list: [NoCloud, None]", "network: {config: disabled}", "locale: C.UTF-8", ""].join("\n");

export interface NodeBoot {
  readonly name: string;
  readonly userData: string;
  readonly privateIp: string;
  readonly installerUrl: string;
  /** Where the stub curl serves the fake k3s and the stub images archive. */
  readonly binaryUrl: string;
  readonly airgapImagesUrl: string;
  /** Seconds after the first stage before the private address appears (agents must wait for it). */
  readonly addressDelaySeconds?: number;
  /** How many /cacerts requests the stub refuses before answering. */
  readonly cacertsRefusals?: number;
  /** The installer download fails (HTTP 404). */
  readonly failDownload?: boolean;
  /** The installer itself fails (as the real one does when it cannot fetch k3s). */
  readonly failInstaller?: boolean;
  /** Paths whose mode, owner and bytes are read back after the run. */
  readonly inspect: readonly string[];
}

export interface WrittenFile {
  readonly mode: string;
  readonly owner: string;
  readonly content: Buffer;
}

export interface NodeRun {
  readonly stages: { stage: string; status: number | null; output: string }[];
  readonly status: string;
  readonly resultErrors: unknown[];
  readonly warnings: string[];
  /** /var/log/cloud-init-output.log: what the console shows. */
  readonly console: string;
  readonly files: Record<string, WrittenFile | null>;
  readonly dirModes: Record<string, string | null>;
  readonly installerArgs?: string[];
  readonly installerEnv?: string[];
  readonly installerTime?: number;
  readonly addressTime?: number;
  readonly curlCalls: { time: number; url: string; cacert: string }[];
  readonly systemctl: string[];
  readonly k3s?: { role: string; config: Record<string, unknown>; tls: Record<string, { mode: string; pem: boolean }>; problems: string[] };
}

const INSPECT_SCRIPT = `
import json, os, pwd, grp, sys, base64
out = {}
for p in json.loads(sys.argv[1]):
    try:
        st = os.stat(p)
    except FileNotFoundError:
        out[p] = None
        continue
    owner = pwd.getpwuid(st.st_uid).pw_name + ":" + grp.getgrgid(st.st_gid).gr_name
    content = None if os.path.isdir(p) else base64.b64encode(open(p, "rb").read()).decode()
    out[p] = {"mode": "%04o" % (st.st_mode & 0o7777), "owner": owner, "content": content}
print(json.dumps(out))
`;

export function bootNode(podman: Podman, base: string, node: NodeBoot, dirs: readonly string[]): NodeRun {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `cloud-init-${node.name}-`));
  const container = `image-pipeline-cloud-init-${process.pid}-${node.name}`;
  try {
    // The harness directory (stubs and their settings), mounted read-only at /harness.
    const harness = path.join(work, "harness");
    fs.mkdirSync(path.join(harness, "bin"), { recursive: true });
    for (const f of ["curl", "systemctl"]) fs.copyFileSync(path.join(HARNESS_FILES, f), path.join(harness, "bin", f));
    for (const f of ["installer.sh", "k3s"]) fs.copyFileSync(path.join(HARNESS_FILES, f), path.join(harness, f));
    for (const f of ["bin/curl", "bin/systemctl", "installer.sh", "k3s"]) fs.chmodSync(path.join(harness, f), 0o755);
    fs.writeFileSync(path.join(harness, "installer-url"), node.installerUrl);
    fs.writeFileSync(path.join(harness, "binary-url"), node.binaryUrl);
    fs.writeFileSync(path.join(harness, "airgap-images-url"), node.airgapImagesUrl);
    fs.writeFileSync(path.join(harness, "airgap-images"), STUB_AIRGAP_IMAGES);
    fs.writeFileSync(path.join(harness, "cacerts-refusals"), String(node.cacertsRefusals ?? 0));
    if (node.failDownload) fs.writeFileSync(path.join(harness, "fail-download"), "");
    if (node.failInstaller) fs.writeFileSync(path.join(harness, "fail-installer"), "");
    const seed = path.join(work, "seed");
    fs.mkdirSync(seed);
    fs.writeFileSync(path.join(seed, "user-data"), node.userData);
    fs.writeFileSync(path.join(seed, "meta-data"), `instance-id: ${node.name}-instance\nlocal-hostname: ${node.name}\n`);
    fs.writeFileSync(path.join(work, "99-harness.cfg"), HARNESS_CLOUD_CFG);

    podman.ok([
      "run",
      "--detach",
      "--replace",
      "--name",
      container,
      "--hostname",
      node.name,
      "--network",
      "none",
      "--cap-add",
      "NET_ADMIN",
      "--cap-add",
      "SYS_ADMIN",
      "--volume",
      `${harness}:/harness:ro`,
      base,
      "sleep",
      "infinity",
    ]);
    const exec = (args: string[], env: Record<string, string> = {}) =>
      podman.run(["exec", ...Object.entries(env).flatMap(([k, v]) => ["--env", `${k}=${v}`]), container, ...args], { timeoutMs: 300_000 });
    const sh = (script: string) => {
      const r = exec(["bash", "-c", `set -euo pipefail\n${script}`]);
      if (r.status !== 0) throw new Error(`harness step failed in ${container}: ${script}\n${r.stderr}`);
      return r.stdout;
    };
    // The seed as cloud-init's NoCloud datasource finds it on disk; the interface the cloud's port would be.
    const addAddress = `ip addr add ${node.privateIp}/24 dev ens3 && date +%s.%N > /var/lib/harness/address-time`;
    sh(`mkdir -p /var/lib/harness /var/lib/cloud/seed/nocloud\nip link add ens3 type veth peer name ens3-peer\nip link set ens3 up`);
    for (const f of ["user-data", "meta-data"]) podman.ok(["cp", path.join(seed, f), `${container}:/var/lib/cloud/seed/nocloud/${f}`]);
    podman.ok(["cp", path.join(work, "99-harness.cfg"), `${container}:/etc/cloud/cloud.cfg.d/99-harness.cfg`]);
    if (node.addressDelaySeconds) {
      const r = podman.run(["exec", "--detach", container, "bash", "-c", `sleep ${node.addressDelaySeconds}; ${addAddress}`]);
      if (r.status !== 0) throw new Error(`cannot schedule the address: ${r.stderr}`);
    } else sh(addAddress);

    const env = { PATH: "/harness/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" };
    const stages = STAGES.map((stage) => {
      const r = exec(["cloud-init", ...stage.split(" ")], env);
      return { stage, status: r.status, output: `${r.stdout}${r.stderr}` };
    });
    const read = (p: string): string => exec(["cat", p]).stdout;
    const maybe = (p: string): string | undefined => {
      const r = exec(["cat", p]);
      return r.status === 0 ? r.stdout : undefined;
    };
    const inspected = JSON.parse(exec(["python3", "-c", INSPECT_SCRIPT, JSON.stringify([...node.inspect, ...dirs])]).stdout) as Record<
      string,
      { mode: string; owner: string; content: string | null } | null
    >;
    const files: Record<string, WrittenFile | null> = {};
    for (const p of node.inspect) {
      const f = inspected[p];
      files[p] = f ? { mode: f.mode, owner: f.owner, content: Buffer.from(f.content ?? "", "base64") } : null;
    }
    const dirModes = Object.fromEntries(dirs.map((d) => [d, inspected[d]?.mode ?? null]));
    const result = JSON.parse(maybe("/run/cloud-init/result.json") ?? "{}") as { v1?: { errors?: unknown[] } };
    const num = (text: string | undefined): number | undefined => (text === undefined ? undefined : Number(text.trim()));
    const lines = (text: string | undefined): string[] | undefined => text?.split("\n").filter((l) => l !== "");
    const k3s = maybe("/var/lib/harness/k3s.json");
    return {
      stages,
      status: exec(["cloud-init", "status", "--long"]).stdout,
      resultErrors: result.v1?.errors ?? ["no result.json"],
      warnings: read("/var/log/cloud-init.log")
        .split("\n")
        .filter((l) => /\[(WARNING|ERROR|CRITICAL)\]/.test(l)),
      console: read("/var/log/cloud-init-output.log"),
      files,
      dirModes,
      installerArgs: lines(maybe("/var/lib/harness/installer-args")),
      installerEnv: lines(maybe("/var/lib/harness/installer-env")),
      installerTime: num(maybe("/var/lib/harness/installer-time")),
      addressTime: num(maybe("/var/lib/harness/address-time")),
      curlCalls: (lines(maybe("/var/lib/harness/curl.log")) ?? []).map((l) => {
        const [time, url, cacert] = l.split("\t");
        return { time: Number(time), url, cacert };
      }),
      systemctl: lines(maybe("/var/lib/harness/systemctl.log")) ?? [],
      k3s: k3s ? JSON.parse(k3s) : undefined,
    };
  } finally {
    // KEEP_CLOUD_INIT_NODES=1 keeps the container for `podman exec` (with the same --root/--runroot and CONTAINERS_CONF).
    if (process.env.KEEP_CLOUD_INIT_NODES !== "1") podman.run(["rm", "--force", "--time", "0", "--ignore", container]);
    fs.rmSync(work, { recursive: true, force: true });
  }
}
