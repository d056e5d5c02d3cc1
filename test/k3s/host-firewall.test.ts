/**
 * The host firewall step of bare-metal nodes, run against a stub firewall-cmd that records its arguments: with
 * firewalld running it trusts the private network, pods and Services (k3s's documented firewalld rules), opens
 * http, and limits ssh (and, on the server, the Kubernetes API) to the admin range; without firewalld it changes
 * nothing. Also shellcheck, and where the step sits in the cloud-config.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { HOST_FIREWALL_SCRIPT_PATH, hostFirewallCommand, hostFirewallScriptText } from "../../infra/k3s/host-firewall";
import { agentCloudConfig, BOOTSTRAP_SCRIPT_PATH, serverCloudConfig, type K3sInstallOptions } from "../../infra/k3s/user-data";
import { buildPkiWithOpenssl, type OpensslPki } from "./support/openssl-pki";

let work: string;
let pki: OpensslPki;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "host-firewall-"));
  pki = buildPkiWithOpenssl("ip-test");
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const OPTIONS = { privateCidr: "192.168.1.0/24", adminCidr: "198.51.100.7/32" };

/** Runs the script with a stub firewall-cmd on PATH (or none); returns its exit code, output and the stub's calls. */
function run(args: string[], firewalld: "running" | "stopped" | "absent") {
  const dir = fs.mkdtempSync(path.join(work, "run-"));
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  const calls = path.join(dir, "calls");
  if (firewalld !== "absent") {
    fs.writeFileSync(
      path.join(bin, "firewall-cmd"),
      `#!/bin/bash\nprintf '%s\\n' "$*" >> '${calls}'\nif [ "$1" = --state ]; then ${firewalld === "running" ? "echo running; exit 0" : "echo 'not running'; exit 252"}; fi\necho success\n`,
      { mode: 0o755 },
    );
  }
  const script = path.join(dir, "host-firewall");
  fs.writeFileSync(script, hostFirewallScriptText(), { mode: 0o700 });
  const result = spawnSync("/bin/bash", [script, ...args], {
    encoding: "utf8",
    env: { PATH: `${bin}:/usr/bin:/bin` },
  });
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    calls: fs.existsSync(calls) ? fs.readFileSync(calls, "utf8").trim().split("\n") : [],
  };
}

const args = (role: "server" | "agent") => hostFirewallCommand(role, OPTIONS).slice(1);

test("with firewalld running, the server trusts the private network, pods and Services and opens 6443 and ssh to the admin range only", () => {
  const r = run(args("server"), "running");
  expect(r.status).toBe(0);
  expect(r.calls).toEqual([
    "--state",
    "--permanent --zone=trusted --add-source=192.168.1.0/24",
    "--permanent --zone=trusted --add-source=10.42.0.0/16",
    "--permanent --zone=trusted --add-source=10.43.0.0/16",
    "--permanent --zone=public --add-service=http",
    "--permanent --zone=public --add-service=https",
    "--permanent --zone=public --remove-service=ssh",
    '--permanent --zone=public --add-rich-rule=rule family="ipv4" source address="198.51.100.7/32" service name="ssh" accept',
    '--permanent --zone=public --add-rich-rule=rule family="ipv4" source address="198.51.100.7/32" port port="6443" protocol="tcp" accept',
    "--reload",
  ]);
});

test("an agent gets the same rules without the Kubernetes API", () => {
  const r = run(args("agent"), "running");
  expect(r.status).toBe(0);
  expect(r.calls.filter((c) => c.includes("6443"))).toEqual([]);
  expect(r.calls).toContain("--permanent --zone=trusted --add-source=192.168.1.0/24");
  expect(r.calls[r.calls.length - 1]).toBe("--reload");
});

test("without a running firewalld (KVM images, cPouta) nothing is changed", () => {
  for (const state of ["stopped", "absent"] as const) {
    const r = run(args("server"), state);
    expect({ state, status: r.status, changes: r.calls.filter((c) => c !== "--state") }).toEqual({ state, status: 0, changes: [] });
    expect(r.stdout).toContain("firewalld is not running; nothing to open");
  }
});

test("missing or unknown arguments fail with the usage, before touching the firewall", () => {
  for (const bad of [
    ["--role", "server"],
    [...args("server"), "--open-all"],
    ["--role", "master", ...args("server").slice(2)],
    ["--role"],
  ]) {
    const r = run(bad, "running");
    expect({ bad, status: r.status, calls: r.calls }).toEqual({ bad, status: 2, calls: [] });
    expect(r.stderr).toContain("usage:");
  }
});

test("the script passes shellcheck", () => {
  const result = spawnSync("shellcheck", ["--shell=bash", "-"], { input: hostFirewallScriptText(), encoding: "utf8" });
  if (result.error) throw new Error(`shellcheck is required for this test (apt-get install shellcheck): ${result.error.message}`);
  expect(result.stdout).toBe("");
  expect(result.status).toBe(0);
});

describe("in the cloud-config", () => {
  const install: K3sInstallOptions = {
    version: "v1.36.2+k3s1",
    installer: { url: "https://raw.githubusercontent.com/k3s-io/k3s/v1.36.2%2Bk3s1/install.sh", sha256: "a".repeat(64) },
    binary: { url: "https://github.com/k3s-io/k3s/releases/download/v1.36.2%2Bk3s1/k3s", sha256: "b".repeat(64) },
    airgapImages: {
      url: "https://github.com/k3s-io/k3s/releases/download/v1.36.2%2Bk3s1/k3s-airgap-images-amd64.tar.zst",
      sha256: "c".repeat(64),
    },
    joinTimeoutSeconds: 900,
    nameservers: ["8.8.8.8"],
  };
  const server = (hostFirewall?: typeof OPTIONS) =>
    serverCloudConfig({
      install: { ...install, hostFirewall },
      nodeName: "node1",
      nodeIp: "192.168.1.11",
      floatingIp: "203.0.113.10",
      token: "K10x::server:y",
      agentTokenPassword: "z",
      tls: pki.material,
    });

  test("with hostFirewall the script is written and runs before the bootstrap, on the server and the agents", () => {
    for (const config of [
      server(OPTIONS),
      agentCloudConfig({
        install: { ...install, hostFirewall: OPTIONS },
        nodeName: "node2",
        nodeIp: "192.168.1.12",
        serverIp: "192.168.1.11",
        agentToken: "K10x::node:y",
        serverCaBundle: "-----BEGIN CERTIFICATE-----\n",
      }),
    ]) {
      expect(config.write_files.map((f) => f.path)).toContain(HOST_FIREWALL_SCRIPT_PATH);
      const commands = config.runcmd.map((c) => (Array.isArray(c) ? c[0] : c));
      expect(commands.indexOf(HOST_FIREWALL_SCRIPT_PATH)).toBeGreaterThan(-1);
      expect(commands.indexOf(HOST_FIREWALL_SCRIPT_PATH)).toBeLessThan(commands.indexOf(BOOTSTRAP_SCRIPT_PATH));
    }
  });

  test("without it there is no firewall step", () => {
    const config = server();
    expect(config.write_files.map((f) => f.path)).not.toContain(HOST_FIREWALL_SCRIPT_PATH);
    expect(JSON.stringify(config.runcmd)).not.toContain(HOST_FIREWALL_SCRIPT_PATH);
  });
});
