/**
 * Pods cannot reach the cloud metadata service, nodes still can. The block script is run three ways: against a
 * stub iptables (arguments, idempotence, failures), for real inside network namespaces shaped like a k3s node
 * (a pod network behind a forwarding node, a Service DNAT and an ACCEPT rule in the filter table like kube-router's),
 * and its systemd unit and k3s drop-in are checked with `systemd-analyze verify` (Debian package systemd) and by
 * their directives. The namespace test needs root with CAP_NET_ADMIN and CAP_SYS_ADMIN (`ip netns`).
 */
import { ChildProcess, execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { K3S_CLUSTER_CIDR, serverConfig } from "../../infra/k3s/k3s-config";
import {
  K3S_UNIT,
  k3sRequiresBlockDropIn,
  METADATA_BLOCK_SCRIPT_PATH,
  METADATA_BLOCK_UNIT,
  METADATA_SERVICE_ADDRESS,
  metadataBlockFiles,
  metadataBlockScriptText,
  metadataBlockUnitText,
} from "../../infra/k3s/metadata-block";

let work: string;
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), "metadata-block-"));
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function writeScript(dir: string): string {
  const script = path.join(dir, "metadata-block");
  fs.writeFileSync(script, metadataBlockScriptText(), { mode: 0o700 });
  return script;
}

describe("against a stub iptables", () => {
  function run(args: string[], options: { ruleExists: boolean; insertFails?: boolean }) {
    const dir = fs.mkdtempSync(path.join(work, "stub-"));
    fs.mkdirSync(path.join(dir, "bin"));
    fs.writeFileSync(
      path.join(dir, "bin", "iptables"),
      [
        "#!/usr/bin/env bash",
        'echo "$*" >> "$STUB_DIR/iptables.log"',
        'case " $* " in *" --check "*) [[ "$RULE_EXISTS" == yes ]] ;; *" --insert "*) [[ "$INSERT_FAILS" != yes ]] ;; *) exit 2 ;; esac',
      ].join("\n"),
      { mode: 0o755 },
    );
    const result = spawnSync(writeScript(dir), args, {
      encoding: "utf8",
      env: {
        PATH: `${path.join(dir, "bin")}:${process.env.PATH}`,
        STUB_DIR: dir,
        RULE_EXISTS: options.ruleExists ? "yes" : "no",
        INSERT_FAILS: options.insertFails ? "yes" : "no",
      },
    });
    const log = path.join(dir, "iptables.log");
    return {
      status: result.status,
      stderr: result.stderr,
      calls: fs.existsSync(log) ? fs.readFileSync(log, "utf8").trim().split("\n") : [],
    };
  }

  const MATCH = `--source ${K3S_CLUSTER_CIDR} --destination ${METADATA_SERVICE_ADDRESS}/32 --match comment --comment image-pipeline: pods may not reach the metadata service --jump DROP`;

  test("inserts a DROP for pod-network traffic to 169.254.169.254 at the top of mangle FORWARD", () => {
    const r = run([K3S_CLUSTER_CIDR], { ruleExists: false });
    expect(r.status).toBe(0);
    expect(r.calls).toEqual([`--wait --table mangle --check FORWARD ${MATCH}`, `--wait --table mangle --insert FORWARD 1 ${MATCH}`]);
  });

  test("is idempotent: a second run (every boot, or a restarted unit) adds nothing", () => {
    const r = run([K3S_CLUSTER_CIDR], { ruleExists: true });
    expect(r.status).toBe(0);
    expect(r.calls).toEqual([`--wait --table mangle --check FORWARD ${MATCH}`]);
    expect(r.stderr).toMatch(/already dropped/);
  });

  test("fails, so the unit fails and k3s does not start, when the rule cannot be installed", () => {
    const r = run([K3S_CLUSTER_CIDR], { ruleExists: false, insertFails: true });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/metadata-block: error: iptables could not install the rule/);
  });

  test.each([[[]], [["10.42.0.0"]], [["all"]]])("refuses a missing or malformed pod CIDR %j", (args) => {
    const r = run(args, { ruleExists: false });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/usage: metadata-block POD_CIDR/);
    expect(r.calls).toEqual([]);
  });
});

/** Parses a unit file into section → key → values (repeated keys accumulate). */
function parseUnit(text: string): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {};
  let section = "";
  for (const line of text.split("\n")) {
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1];
      out[section] = {};
    } else if (line.includes("=")) {
      const [key, ...rest] = line.split("=");
      (out[section][key] ??= []).push(rest.join("="));
    }
  }
  return out;
}

describe("systemd unit and k3s drop-in", () => {
  test("the unit runs the block for the pod range k3s is configured with, before either k3s unit, at every boot", () => {
    const unit = parseUnit(metadataBlockUnitText(K3S_CLUSTER_CIDR));
    const config = serverConfig({ token: "t", agentTokenPassword: "a", nodeIp: "192.168.1.11", floatingIp: "203.0.113.10" });
    expect(unit.Service.ExecStart).toEqual([`${METADATA_BLOCK_SCRIPT_PATH} ${config["cluster-cidr"]}`]);
    expect(unit.Service).toMatchObject({ Type: ["oneshot"], RemainAfterExit: ["yes"] });
    expect(unit.Unit.Before[0].split(" ").sort()).toEqual(["k3s-agent.service", "k3s.service"]);
    expect(unit.Install.WantedBy).toEqual(["multi-user.target"]);
  });

  test("each role's k3s unit requires the block and starts after it", () => {
    expect(parseUnit(k3sRequiresBlockDropIn()).Unit).toEqual({ Requires: [METADATA_BLOCK_UNIT], After: [METADATA_BLOCK_UNIT] });
    for (const role of ["server", "agent"] as const) {
      const paths = metadataBlockFiles(role, K3S_CLUSTER_CIDR).map((f) => f.path);
      expect(paths).toContain(`/etc/systemd/system/${K3S_UNIT[role]}.d/10-image-pipeline-metadata-block.conf`);
      expect(paths).toContain(`/etc/systemd/system/${METADATA_BLOCK_UNIT}`);
    }
  });

  test("systemd-analyze verify finds no syntax problem in the unit or the drop-in", () => {
    const dir = fs.mkdtempSync(path.join(work, "units-"));
    fs.writeFileSync(path.join(dir, METADATA_BLOCK_UNIT), metadataBlockUnitText(K3S_CLUSTER_CIDR));
    // A stand-in k3s.service so the drop-in is loaded and parsed with it.
    fs.writeFileSync(path.join(dir, "k3s.service"), "[Unit]\nDescription=stand-in\n\n[Service]\nExecStart=/bin/true\n");
    fs.mkdirSync(path.join(dir, "k3s.service.d"));
    fs.writeFileSync(path.join(dir, "k3s.service.d", "10-image-pipeline-metadata-block.conf"), k3sRequiresBlockDropIn());
    const check = (unit: string) => {
      const result = spawnSync("systemd-analyze", ["verify", path.join(dir, unit)], { encoding: "utf8" });
      if (result.error) throw new Error(`systemd-analyze is required for this test (apt-get install systemd): ${result.error.message}`);
      return `${result.stdout}${result.stderr}`;
    };
    // The real validator does complain about a typo, so a clean result means something.
    fs.writeFileSync(path.join(dir, "typo.service"), "[Unit]\nRequirez=x\n\n[Service]\nTyp=oneshot\nExecStart=/bin/true\n");
    expect(check("typo.service")).toMatch(/Unknown key 'Requirez'/);
    const syntaxProblem = /Unknown (key|section)|Failed to parse|Missing '='|Invalid section header/;
    for (const unit of [METADATA_BLOCK_UNIT, "k3s.service"])
      expect({ unit, output: check(unit) }).not.toMatchObject({ output: expect.stringMatching(syntaxProblem) });
  });
});

describe("for real, in network namespaces shaped like a k3s node", () => {
  // pod (10.42.0.5) --veth--> node (forwards; 10.42.0.1 / 192.0.2.1) --veth--> cloud (192.0.2.2, 169.254.169.254)
  const id = `ipm${process.pid % 100000}`;
  const ns = { pod: `${id}-pod`, node: `${id}-node`, cloud: `${id}-cloud` };
  const listeners: ChildProcess[] = [];
  const sh = (...args: string[]) => execFileSync(args[0], args.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const inNs = (name: string, ...args: string[]) => sh("ip", "netns", "exec", name, ...args);

  beforeAll(async () => {
    const probe = spawnSync("ip", ["netns", "add", ns.pod], { encoding: "utf8" });
    if (probe.status !== 0)
      throw new Error(
        `this test needs root with CAP_NET_ADMIN and CAP_SYS_ADMIN (ip netns add): ${probe.stderr || probe.error?.message}; in a container run it with --cap-add NET_ADMIN --cap-add SYS_ADMIN`,
      );
    sh("ip", "netns", "add", ns.node);
    sh("ip", "netns", "add", ns.cloud);
    sh("ip", "link", "add", `${id}p`, "netns", ns.pod, "type", "veth", "peer", "name", `${id}n`, "netns", ns.node);
    sh("ip", "link", "add", `${id}u`, "netns", ns.node, "type", "veth", "peer", "name", `${id}c`, "netns", ns.cloud);
    for (const n of Object.values(ns)) inNs(n, "ip", "link", "set", "lo", "up");
    inNs(ns.pod, "ip", "addr", "add", "10.42.0.5/24", "dev", `${id}p`);
    inNs(ns.pod, "ip", "link", "set", `${id}p`, "up");
    inNs(ns.pod, "ip", "route", "add", "default", "via", "10.42.0.1");
    inNs(ns.node, "ip", "addr", "add", "10.42.0.1/24", "dev", `${id}n`);
    inNs(ns.node, "ip", "addr", "add", "192.0.2.1/24", "dev", `${id}u`);
    inNs(ns.node, "ip", "link", "set", `${id}n`, "up");
    inNs(ns.node, "ip", "link", "set", `${id}u`, "up");
    inNs(ns.node, "ip", "route", "add", `${METADATA_SERVICE_ADDRESS}/32`, "via", "192.0.2.2");
    inNs(ns.node, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1");
    // flannel masquerades pod traffic leaving the pod network; kube-router and flannel ACCEPT it in filter FORWARD.
    inNs(ns.node, "iptables", "-t", "nat", "-A", "POSTROUTING", "-s", K3S_CLUSTER_CIDR, "!", "-d", K3S_CLUSTER_CIDR, "-j", "MASQUERADE");
    inNs(ns.node, "iptables", "-I", "FORWARD", "1", "-s", K3S_CLUSTER_CIDR, "-j", "ACCEPT");
    // A Service whose endpoint is the metadata service: kube-proxy's DNAT happens before FORWARD.
    inNs(
      ns.node,
      "iptables",
      "-t",
      "nat",
      "-A",
      "PREROUTING",
      "-d",
      "10.43.0.99",
      "-p",
      "tcp",
      "--dport",
      "80",
      "-j",
      "DNAT",
      "--to-destination",
      `${METADATA_SERVICE_ADDRESS}:80`,
    );
    inNs(ns.cloud, "ip", "addr", "add", "192.0.2.2/24", "dev", `${id}c`);
    inNs(ns.cloud, "ip", "addr", "add", `${METADATA_SERVICE_ADDRESS}/32`, "dev", "lo");
    inNs(ns.cloud, "ip", "link", "set", `${id}c`, "up");
    const listener = spawn(
      "ip",
      [
        "netns",
        "exec",
        ns.cloud,
        process.execPath,
        "-e",
        "require('net').createServer((s) => { s.on('error', () => {}); s.end('ok\\n'); }).listen(80, () => console.log('listening'))",
      ],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    listeners.push(listener);
    await new Promise<void>((resolve, reject) => {
      listener.stdout?.once("data", () => resolve());
      listener.once("exit", (code) => reject(new Error(`listener exited with ${code}`)));
    });
  }, 120_000);

  afterAll(() => {
    for (const l of listeners) l.kill("SIGKILL");
    for (const n of Object.values(ns)) spawnSync("ip", ["netns", "del", n]);
  });

  /** Whether a TCP connection from `from` to address:80 completes within five seconds (generous on a loaded machine; a dropped SYN never completes). */
  const connects = (from: string, address: string): boolean =>
    spawnSync("ip", ["netns", "exec", from, "timeout", "5", "bash", "-c", `exec 3<>/dev/tcp/${address}/80 && head -c 2 <&3`], {
      encoding: "utf8",
    }).stdout === "ok";

  test("before the block, a pod reaches the metadata service (the topology is sound)", () => {
    expect(connects(ns.pod, METADATA_SERVICE_ADDRESS)).toBe(true);
    expect(connects(ns.pod, "10.43.0.99")).toBe(true);
  });

  test("after the block: pods cannot reach it, directly or through a Service; the node and other destinations still work", () => {
    const script = writeScript(fs.mkdtempSync(path.join(work, "ns-")));
    inNs(ns.node, script, K3S_CLUSTER_CIDR);
    inNs(ns.node, script, K3S_CLUSTER_CIDR); // a second boot's run
    expect(inNs(ns.node, "iptables", "-t", "mangle", "-S", "FORWARD").match(/-j DROP/g)).toHaveLength(1);
    expect(connects(ns.pod, METADATA_SERVICE_ADDRESS)).toBe(false);
    expect(connects(ns.pod, "10.43.0.99")).toBe(false);
    expect(connects(ns.node, METADATA_SERVICE_ADDRESS)).toBe(true);
    expect(connects(ns.pod, "192.0.2.2")).toBe(true);
  });
});
