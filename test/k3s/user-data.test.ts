/**
 * The rendered cloud-config for both stacks and both roles, with a real PKI: validated by cloud-init's own
 * schema checker and shellcheck (Debian packages cloud-init and shellcheck; the tests fail when they are
 * missing), inspected for what k3s needs, and the bootstrap script run for real against stub `ip`/`curl`.
 */
import { execFileSync, spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { HOSTS_LINE_COMMAND } from "../../infra/k3s/cloud-config";
import { parseStackConfig, StackConfig } from "../../infra/config";
import { AGENT_TOKEN_USER, secureJoinToken } from "../../infra/k3s/join-token";
import { K3S_CLUSTER_CIDR, K3S_CONFIG_PATH } from "../../infra/k3s/k3s-config";
import { K3S_RESOLV_CONF_PATH, nameserverProblems, renderResolvConf } from "../../infra/k3s/resolv-conf";
import { K3S_SERVER_TLS_DIR, serverCaBundle, serverTlsFiles } from "../../infra/k3s/server-tls";
import {
  AGENT_SERVER_CA_PATH,
  agentUserData,
  BOOTSTRAP_SCRIPT_PATH,
  K3sCloudConfig,
  type K3sInstallOptions,
  NOVA_USER_DATA_LIMIT_BASE64,
  renderUserData,
  serverUserData,
} from "../../infra/k3s/user-data";
import { nodeNames } from "../../infra/nodes";
import {
  K3S_UNIT,
  k3sRequiresBlockDropIn,
  METADATA_BLOCK_SCRIPT_PATH,
  METADATA_BLOCK_UNIT,
  metadataBlockScriptText,
  metadataBlockUnitText,
} from "../../infra/k3s/metadata-block";
import { SCRUB_USER_DATA_PATH, scrubUserDataScriptText } from "../../infra/k3s/user-data-scrub";
import { mapSource, stackValues } from "../support/configSource";
import { decodedContent, fileText } from "./support/cloud-config";
import { buildPkiWithOpenssl, OpensslPki } from "./support/openssl-pki";

const NOW = new Date("2026-11-22T12:00:00Z");
const FLOATING_IP = "203.0.113.10";
const PASSWORD = "Q7pLx2Vn9Rk4Ts8Wy3Bz6Cd1Fg5Hj0MmAa2Ee4Ii6Oo8Uu0Nn";
const AGENT_PASSWORD = "Zx8Cv7Bn6Mm5Lk4Jh3Gf2Ds1Aa0Qw9Er8Ty7Ui6Op5As4Df3";

let pki: OpensslPki;
let work: string;
beforeAll(() => {
  pki = buildPkiWithOpenssl("ip-test");
  work = fs.mkdtempSync(path.join(os.tmpdir(), "k3s-user-data-"));
});
afterAll(() => {
  fs.rmSync(pki.dir, { recursive: true, force: true });
  fs.rmSync(work, { recursive: true, force: true });
});

interface Rendered {
  readonly cfg: StackConfig;
  readonly names: string[];
  readonly token: string;
  readonly agentToken: string;
  readonly docs: { role: "server" | "agent"; node: string; text: string }[];
}

function render(stack: string, pins?: Pick<K3sInstallOptions, "installer" | "binary" | "airgapImages">): Rendered {
  const cfg = parseStackConfig(mapSource(stackValues(stack)), stack, NOW);
  const names = nodeNames(cfg.nodes.namePrefix, cfg.nodes.count);
  const token = secureJoinToken(pki.cas.root.certPem, PASSWORD);
  const agentToken = secureJoinToken(pki.cas.root.certPem, AGENT_PASSWORD, AGENT_TOKEN_USER);
  const install = {
    version: cfg.k3s.version,
    installer: cfg.k3s.installer,
    binary: cfg.k3s.binary,
    airgapImages: cfg.k3s.airgapImages,
    ...pins,
    joinTimeoutSeconds: cfg.k3s.joinTimeoutSeconds,
    nameservers: cfg.network.dnsNameservers,
  };
  const docs = names.map((node, i) =>
    i === 0
      ? {
          role: "server" as const,
          node,
          text: serverUserData({
            install,
            nodeName: node,
            nodeIp: cfg.network.privateIps[0],
            floatingIp: FLOATING_IP,
            token,
            agentTokenPassword: AGENT_PASSWORD,
            tls: pki.material,
          }),
        }
      : {
          role: "agent" as const,
          node,
          text: agentUserData({
            install,
            nodeName: node,
            nodeIp: cfg.network.privateIps[i],
            serverIp: cfg.network.privateIps[0],
            agentToken,
            serverCaBundle: serverCaBundle(pki.material),
          }),
        },
  );
  return { cfg, names, token, agentToken, docs };
}

const parsed = (text: string) => parseYaml(text) as K3sCloudConfig;
const fileAt = (doc: K3sCloudConfig, p: string) => doc.write_files.find((f) => f.path === p);

function writeTemp(name: string, content: string): string {
  const file = path.join(work, name);
  fs.writeFileSync(file, content);
  return file;
}

function cloudInitSchema(file: string): { ok: boolean; output: string } {
  const result = spawnSync("cloud-init", ["schema", "--config-file", file], { encoding: "utf8" });
  if (result.error) throw new Error(`cloud-init is required for these tests (apt-get install cloud-init): ${result.error.message}`);
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

function shellcheck(script: string, shell?: "sh" | "bash"): { ok: boolean; output: string } {
  const result = spawnSync("shellcheck", [...(shell ? [`--shell=${shell}`] : []), "-"], { input: script, encoding: "utf8" });
  if (result.error) throw new Error(`shellcheck is required for these tests (apt-get install shellcheck): ${result.error.message}`);
  return { ok: result.status === 0, output: `${result.stdout}${result.stderr}` };
}

describe("validators are real", () => {
  test("cloud-init schema rejects a malformed cloud-config", () => {
    const bad = cloudInitSchema(writeTemp("bad.yaml", "#cloud-config\nwrite_files:\n  - content: x\nruncmd: 5\n"));
    expect(bad.ok).toBe(false);
    expect(bad.output).toMatch(/runcmd/);
  });

  test("shellcheck rejects an unquoted expansion", () => {
    const bad = shellcheck("#!/usr/bin/env bash\nset -euo pipefail\nrm -rf $1/data\n");
    expect(bad.ok).toBe(false);
    expect(bad.output).toMatch(/SC2086/);
  });
});

describe.each(["dev", "prod"])("%s user data", (stack) => {
  let r: Rendered;
  beforeAll(() => {
    r = render(stack);
  });

  test("one #cloud-config document per node: node1 the server, the rest agents", () => {
    expect(r.docs.map((d) => d.role)).toEqual(["server", ...r.names.slice(1).map(() => "agent")]);
    for (const d of r.docs) {
      expect(d.text.startsWith("#cloud-config\n")).toBe(true);
      expect(Object.keys(parsed(d.text)).sort()).toEqual(["bootcmd", "runcmd", "write_files"]);
    }
  });

  test("every document passes `cloud-init schema`", () => {
    for (const d of r.docs) {
      const result = cloudInitSchema(writeTemp(`${stack}-${d.node}.yaml`, d.text));
      expect({ node: d.node, ...result }).toMatchObject({ node: d.node, ok: true });
      expect(result.output).toMatch(/Valid cloud-config/);
    }
  });

  test("every embedded shell script and shell command passes shellcheck", () => {
    for (const d of r.docs) {
      const doc = parsed(d.text);
      const scripts = doc.write_files
        .map((f) => ({ path: f.path, encoding: f.encoding, content: decodedContent(f) }))
        .filter((f) => f.content.startsWith("#!"));
      expect(scripts.map((f) => f.path).sort()).toEqual([BOOTSTRAP_SCRIPT_PATH, METADATA_BLOCK_SCRIPT_PATH, SCRUB_USER_DATA_PATH].sort());
      for (const f of scripts) {
        expect({ path: f.path, encoding: f.encoding }).toEqual({ path: f.path, encoding: "gz+b64" });
        expect(f.content.split("\n").find((line) => !line.startsWith("#") && line.trim() !== "")).toBe("set -euo pipefail");
        expect({ node: d.node, path: f.path, ...shellcheck(f.content) }).toMatchObject({ ok: true });
      }
      // String runcmd entries run through /bin/sh.
      for (const cmd of doc.runcmd.filter((c): c is string => typeof c === "string")) {
        expect({ node: d.node, cmd, ...shellcheck(cmd, "sh") }).toMatchObject({ ok: true });
      }
    }
  });

  test("bootcmd makes the key and token directories root-only before write_files fills them", () => {
    for (const d of r.docs) {
      const dirs = d.role === "server" ? [K3S_SERVER_TLS_DIR, "/etc/rancher/k3s"] : ["/etc/rancher/k3s"];
      expect(parsed(d.text).bootcmd).toEqual([["install", "-d", "-m", "0700", "-o", "root", "-g", "root", ...dirs]]);
    }
  });

  test("runcmd keeps seed 001's hosts line, then runs the bootstrap with the pinned version and installer", () => {
    for (const d of r.docs) {
      const [hosts, bootstrap, ...rest] = parsed(d.text).runcmd;
      expect(hosts).toBe(HOSTS_LINE_COMMAND);
      expect(hosts).toBe('echo "127.0.1.1 $(hostname)" >> /etc/hosts');
      expect(rest).toEqual([]);
      expect(bootstrap).toEqual(
        expect.arrayContaining([
          BOOTSTRAP_SCRIPT_PATH,
          "--role",
          d.role,
          "--k3s-version",
          r.cfg.k3s.version,
          "--installer-url",
          r.cfg.k3s.installer.url,
        ]),
      );
      // Every download is pinned: each URL is followed by the sha256 the bootstrap checks it against.
      const argv = bootstrap as string[];
      const after = (flag: string) => argv[argv.indexOf(flag) + 1];
      expect(after("--installer-sha256")).toBe(r.cfg.k3s.installer.sha256);
      expect(after("--binary-url")).toBe(r.cfg.k3s.binary.url);
      expect(after("--binary-sha256")).toBe(r.cfg.k3s.binary.sha256);
      expect(after("--airgap-images-url")).toBe(r.cfg.k3s.airgapImages.url);
      expect(after("--airgap-images-sha256")).toBe(r.cfg.k3s.airgapImages.sha256);
      expect((bootstrap as string[])[0]).toBe(BOOTSTRAP_SCRIPT_PATH);
      expect(fileAt(parsed(d.text), BOOTSTRAP_SCRIPT_PATH)?.permissions).toBe("0700");
    }
  });

  test("the server writes the full CA set before install and a k3s config on the private network", () => {
    const doc = parsed(r.docs[0].text);
    for (const f of serverTlsFiles(pki.material)) {
      expect(fileAt(doc, f.path)).toEqual({ path: f.path, content: f.content, permissions: f.permissions, owner: "root:root" });
    }
    const config = fileAt(doc, K3S_CONFIG_PATH);
    expect(config?.permissions).toBe("0600");
    expect(parseYaml(config?.content ?? "")).toEqual({
      token: r.token,
      "agent-token": AGENT_PASSWORD,
      "node-ip": r.cfg.network.privateIps[0],
      "advertise-address": r.cfg.network.privateIps[0],
      "tls-san": [FLOATING_IP, r.cfg.network.privateIps[0]],
      "write-kubeconfig-mode": "0600",
      "secrets-encryption": true,
      "resolv-conf": K3S_RESOLV_CONF_PATH,
      "cluster-cidr": "10.42.0.0/16",
      "service-cidr": "10.43.0.0/16",
    });
    // metrics-server (the HPA's source) and the rest of k3s's packaged components stay on.
    expect(config?.content).not.toMatch(/disable/);
    expect(r.docs[0].text).not.toContain(pki.cas.root.keyPem.trim());
    expect(r.docs[0].text).not.toContain(pki.cas.intermediate.keyPem.trim());
  });

  test("agents join https://<node1>:6443 with the secure agent token, check the server CA, and carry no private key", () => {
    for (const [i, d] of r.docs.entries()) {
      if (d.role !== "agent") continue;
      const doc = parsed(d.text);
      expect(parseYaml(fileAt(doc, K3S_CONFIG_PATH)?.content ?? "")).toEqual({
        server: `https://${r.cfg.network.privateIps[0]}:6443`,
        token: r.agentToken,
        "node-ip": r.cfg.network.privateIps[i],
        "resolv-conf": K3S_RESOLV_CONF_PATH,
      });
      expect(fileAt(doc, AGENT_SERVER_CA_PATH)?.content).toBe(
        fileAt(parsed(r.docs[0].text), `${K3S_SERVER_TLS_DIR}/server-ca.crt`)?.content,
      );
      expect(doc.write_files.some((f) => f.path.startsWith(K3S_SERVER_TLS_DIR))).toBe(false);
      expect(d.text).not.toMatch(/PRIVATE KEY/);
      // The server token (full administrator access: it fetches the CA keys) appears nowhere, not even its password.
      expect(r.agentToken).toMatch(/^K10[0-9a-f]{64}::node:/);
      expect(d.text).not.toContain(PASSWORD);
      expect(d.text).not.toMatch(/::server:/);
      expect(doc.runcmd[1]).toEqual(
        expect.arrayContaining([
          "--server-url",
          `https://${r.cfg.network.privateIps[0]}:6443`,
          "--server-ca",
          AGENT_SERVER_CA_PATH,
          "--join-timeout",
          String(r.cfg.k3s.joinTimeoutSeconds),
        ]),
      );
    }
  });

  test("every node gets a resolv.conf with only the stack's upstream resolvers, and k3s (kubelet, CoreDNS) reads it", () => {
    const expected = stack === "dev" ? ["129.114.97.1", "129.114.97.2"] : ["193.166.4.24", "193.166.4.25"];
    expect(r.cfg.network.dnsNameservers).toEqual(expected);
    for (const d of r.docs) {
      const doc = parsed(d.text);
      const resolv = fileAt(doc, K3S_RESOLV_CONF_PATH);
      expect(resolv).toMatchObject({ permissions: "0644", owner: "root:root" });
      const lines = (resolv?.content ?? "").split("\n").filter((l) => l !== "" && !l.startsWith("#"));
      expect(lines).toEqual(expected.map((ns) => `nameserver ${ns}`));
      expect((parseYaml(fileAt(doc, K3S_CONFIG_PATH)?.content ?? "") as Record<string, unknown>)["resolv-conf"]).toBe(K3S_RESOLV_CONF_PATH);
      // write_files runs before runcmd, so the file exists when the installer starts k3s.
      expect(doc.write_files.findIndex((f) => f.path === K3S_RESOLV_CONF_PATH)).toBeGreaterThanOrEqual(0);
    }
  });

  test("every node installs the pod metadata block for its own k3s unit, and the per-boot user-data scrub", () => {
    for (const d of r.docs) {
      const doc = parsed(d.text);
      expect(fileText(doc, METADATA_BLOCK_SCRIPT_PATH)).toBe(metadataBlockScriptText());
      expect(fileText(doc, `/etc/systemd/system/${METADATA_BLOCK_UNIT}`)).toBe(metadataBlockUnitText(K3S_CLUSTER_CIDR));
      expect(fileText(doc, `/etc/systemd/system/${K3S_UNIT[d.role]}.d/10-image-pipeline-metadata-block.conf`)).toBe(
        k3sRequiresBlockDropIn(),
      );
      expect(fileText(doc, SCRUB_USER_DATA_PATH)).toBe(scrubUserDataScriptText());
      expect((parsed(d.text).runcmd[1] as string[]).join(" ")).toContain(`--metadata-block-unit ${METADATA_BLOCK_UNIT}`);
    }
  });

  test("fits Nova's user-data limit with room to spare", () => {
    for (const d of r.docs) {
      const base64Bytes = Buffer.from(d.text).toString("base64").length;
      expect(base64Bytes).toBeLessThan(NOVA_USER_DATA_LIMIT_BASE64 / 2);
    }
  });
});

test("user data over Nova's limit is refused with the node's name", () => {
  expect(() =>
    renderUserData("node9", {
      bootcmd: [],
      write_files: [{ path: "/big", content: "x".repeat(50_000), permissions: "0644", owner: "root:root" }],
      runcmd: [],
    }),
  ).toThrow(/user data for node9 is \d+ bytes base64-encoded, above Nova's 65535-byte limit/);
});

describe("bootstrap script, run against stub ip/curl/sleep/systemctl", () => {
  interface Run {
    status: number | null;
    stderr: string;
    installs: string[];
    curlCalls: string[];
    /** systemctl calls and installer runs, in the order they happened. */
    events: string[];
    /** `install` calls: the verified binary and images put in place. */
    placed: string[];
  }

  /** The stub installer records its INSTALL_K3S_ environment and arguments. */
  const SERVED = {
    installer:
      '#!/bin/sh\necho "INSTALL_K3S_SKIP_DOWNLOAD=$INSTALL_K3S_SKIP_DOWNLOAD INSTALL_K3S_VERSION=$INSTALL_K3S_VERSION $*" >> "$STUB_DIR/installs.log"\necho "installer $*" >> "$STUB_DIR/events.log"\n',
    binary: "stub k3s binary\n",
    images: "stub airgap images\n",
  };
  const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");
  /** Pins of what the stub serves, at the stack's URLs. */
  function stubPins(cfg: StackConfig): Pick<K3sInstallOptions, "installer" | "binary" | "airgapImages"> {
    return {
      installer: { url: cfg.k3s.installer.url, sha256: sha256(SERVED.installer) },
      binary: { url: cfg.k3s.binary.url, sha256: sha256(SERVED.binary) },
      airgapImages: { url: cfg.k3s.airgapImages.url, sha256: sha256(SERVED.images) },
    };
  }

  /** Runs the runcmd argv of a rendered document with the script extracted from the same document. */
  function runBootstrap(
    text: string,
    options: { addresses: string; cacertsFailures?: number; systemctlFails?: boolean; served?: Partial<typeof SERVED> },
  ): Run {
    const dir = fs.mkdtempSync(path.join(work, "run-"));
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    // What the stub network serves at the installer, binary and images URLs.
    const served = { ...SERVED, ...options.served };
    fs.mkdirSync(path.join(dir, "served"));
    for (const [name, content] of Object.entries(served)) fs.writeFileSync(path.join(dir, "served", name), content);
    const doc = parsed(text);
    const script = path.join(dir, "bootstrap");
    fs.writeFileSync(script, fileText(doc, BOOTSTRAP_SCRIPT_PATH) ?? "", { mode: 0o700 });
    const stub = (name: string, body: string) => fs.writeFileSync(path.join(bin, name), `#!/usr/bin/env bash\n${body}\n`, { mode: 0o755 });
    stub("ip", `cat <<'EOF'\n${options.addresses}\nEOF`);
    stub("sleep", "exit 0");
    stub("systemctl", 'echo "systemctl $*" >> "$STUB_DIR/events.log"; [[ "$1" != enable ]] || exit "$SYSTEMCTL_EXIT"');
    // install: records where the bootstrap puts the binary and the images (never this machine's /usr/local/bin).
    stub("install", 'echo "install $*" >> "$STUB_DIR/placed.log"');
    // curl: /cacerts fails the requested number of times; the installer, binary and images come from served/.
    stub(
      "curl",
      [
        'echo "$*" >> "$STUB_DIR/curl.log"',
        'out=""; url=""; while (($#)); do case "$1" in --output) out="$2"; shift 2 ;; --max-time|--cacert|--retry|--retry-delay) shift 2 ;; -*) shift ;; *) url="$1"; shift ;; esac; done',
        'if [[ "$url" == */cacerts ]]; then n=$(cat "$STUB_DIR/cacerts.count" 2>/dev/null || echo 0); echo $((n + 1)) > "$STUB_DIR/cacerts.count"; ((n >= CACERTS_FAILURES)) || exit 7; exit 0; fi',
        'case "$url" in */install.sh) cp "$STUB_DIR/served/installer" "$out" ;; */k3s) cp "$STUB_DIR/served/binary" "$out" ;; *.tar.zst) cp "$STUB_DIR/served/images" "$out" ;; *) exit 6 ;; esac',
      ].join("\n"),
    );
    const argv = (doc.runcmd[1] as string[]).slice(1);
    const result = spawnSync(script, argv, {
      encoding: "utf8",
      env: {
        PATH: `${bin}:${process.env.PATH}`,
        STUB_DIR: dir,
        CACERTS_FAILURES: String(options.cacertsFailures ?? 0),
        SYSTEMCTL_EXIT: options.systemctlFails ? "1" : "0",
      },
    });
    const read = (f: string) => (fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), "utf8").trim().split("\n") : []);
    return {
      status: result.status,
      stderr: result.stderr,
      installs: read("installs.log"),
      curlCalls: read("curl.log"),
      events: read("events.log"),
      placed: read("placed.log"),
    };
  }

  const ADDRESSES = (ip: string) =>
    [
      "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever",
      "2: ens3    inet 10.52.1.7/22 metric 100 brd 10.52.3.255 scope global dynamic ens3\\       valid_lft 86000sec preferred_lft 86000sec",
      `3: enp4s0    inet ${ip}/24 brd 192.168.1.255 scope global enp4s0\\       valid_lft forever preferred_lft forever`,
    ].join("\n");

  let r: Rendered;
  let pinned: Rendered;
  beforeAll(() => {
    pinned = render("dev");
    r = render("dev", stubPins(pinned.cfg));
  });

  test("the server installs the pinned k3s as server with flannel on the private interface", () => {
    const run = runBootstrap(r.docs[0].text, { addresses: ADDRESSES(r.cfg.network.privateIps[0]) });
    expect(run.stderr).toMatch(/private network 192\.168\.1\.11 is on enp4s0/);
    expect(run.status).toBe(0);
    // The installer is told to download nothing: it uses the verified binary and the images already in place.
    expect(run.installs).toEqual([`INSTALL_K3S_SKIP_DOWNLOAD=true INSTALL_K3S_VERSION=${r.cfg.k3s.version} server --flannel-iface enp4s0`]);
    expect(run.curlCalls.map((c) => c.split(" ").pop())).toEqual([
      r.cfg.k3s.installer.url,
      r.cfg.k3s.binary.url,
      r.cfg.k3s.airgapImages.url,
    ]);
    expect(run.placed).toEqual([
      expect.stringMatching(/^install -m 0755 -o root -g root \S+\/k3s \/usr\/local\/bin\/k3s$/),
      "install -d -m 0755 /var/lib/rancher/k3s/agent/images",
      expect.stringMatching(
        /^install -m 0644 -o root -g root \S+ \/var\/lib\/rancher\/k3s\/agent\/images\/k3s-airgap-images-amd64\.tar\.zst$/,
      ),
    ]);
    for (const what of ["installer", "binary", "airgap images"])
      expect(run.stderr).toMatch(new RegExp(`${what} verified: sha256 [0-9a-f]{64}`));
  });

  test.each([
    ["installer", "the k3s installer", (cfg: StackConfig) => cfg.k3s.installer.url],
    ["binary", "the k3s v[^ ]+ binary", (cfg: StackConfig) => cfg.k3s.binary.url],
    ["images", "the k3s v[^ ]+ airgap images", (cfg: StackConfig) => cfg.k3s.airgapImages.url],
  ] as const)("a tampered %s (its sha256 not the pinned one) stops the bootstrap before anything is installed", (name, what, url) => {
    const run = runBootstrap(r.docs[0].text, { addresses: ADDRESSES(r.cfg.network.privateIps[0]), served: { [name]: "tampered\n" } });
    expect(run.status).toBe(1);
    const escaped = url(r.cfg).replace(/[.+?^${}()|[\]\\]/g, "\\$&");
    expect(run.stderr).toMatch(
      new RegExp(
        `error: ${what} from ${escaped} has sha256 ${sha256("tampered\n")}, but stack config pins [0-9a-f]{64}; k3s is not installed`,
      ),
    );
    expect(run.installs).toEqual([]);
    expect(run.placed).toEqual([]);
  });

  test("the stack's real pins refuse what the stub serves: nothing is installed unverified", () => {
    const run = runBootstrap(pinned.docs[0].text, { addresses: ADDRESSES(pinned.cfg.network.privateIps[0]) });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`but stack config pins ${pinned.cfg.k3s.installer.sha256}; k3s is not installed`);
    expect(run.installs).toEqual([]);
  });

  test("an agent waits for the server's /cacerts, verified with the server CA, before installing", () => {
    const run = runBootstrap(r.docs[1].text, { addresses: ADDRESSES(r.cfg.network.privateIps[1]), cacertsFailures: 3 });
    expect(run.status).toBe(0);
    const waits = run.curlCalls.filter((c) => c.includes("/cacerts"));
    expect(waits).toHaveLength(4);
    expect(waits[0]).toContain(`--cacert ${AGENT_SERVER_CA_PATH} --output /dev/null https://192.168.1.11:6443/cacerts`);
    expect(run.installs).toEqual([`INSTALL_K3S_SKIP_DOWNLOAD=true INSTALL_K3S_VERSION=${r.cfg.k3s.version} agent --flannel-iface enp4s0`]);
  });

  test("an agent gives up after its join timeout with a message, without installing", () => {
    const text = agentUserData({
      install: { version: r.cfg.k3s.version, ...stubPins(r.cfg), joinTimeoutSeconds: 0, nameservers: ["8.8.8.8"] },
      nodeName: "n2",
      nodeIp: "192.168.1.12",
      serverIp: "192.168.1.11",
      agentToken: r.agentToken,
      serverCaBundle: serverCaBundle(pki.material),
    });
    const run = runBootstrap(text, { addresses: ADDRESSES("192.168.1.12"), cacertsFailures: 1000 });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/error: server https:\/\/192\.168\.1\.11:6443 did not answer within 0s; check node1's console log/);
    expect(run.installs).toEqual([]);
  });

  test("a node whose private address never appears fails clearly instead of installing", () => {
    const run = runBootstrap(r.docs[0].text, { addresses: ADDRESSES("192.168.1.99") });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/error: no interface has address 192\.168\.1\.11 after 120s/);
    expect(run.installs).toEqual([]);
  });

  test.each([0, 1])("node %i starts the metadata block before k3s is installed", (i) => {
    const run = runBootstrap(r.docs[i].text, { addresses: ADDRESSES(r.cfg.network.privateIps[i]) });
    expect(run.status).toBe(0);
    expect(run.events).toEqual([
      "systemctl daemon-reload",
      `systemctl enable --now ${METADATA_BLOCK_UNIT}`,
      expect.stringMatching(/^installer (server|agent) --flannel-iface enp4s0$/),
    ]);
    expect(run.stderr).toMatch(/pods are blocked from the metadata service/);
  });

  test("no k3s when the metadata block cannot be started", () => {
    const run = runBootstrap(r.docs[0].text, { addresses: ADDRESSES(r.cfg.network.privateIps[0]), systemctlFails: true });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(
      /error: could not start image-pipeline-metadata-block\.service; k3s is not installed without the metadata block/,
    );
    expect(run.installs).toEqual([]);
  });

  test("bad arguments are refused", () => {
    const script = writeTemp("bootstrap.sh", fileText(parsed(r.docs[0].text), BOOTSTRAP_SCRIPT_PATH) ?? "");
    const result = spawnSync("bash", [script, "--role", "master", "--node-ip", "1.2.3.4", "--k3s-version", "v", "--installer-url", "u"], {
      encoding: "utf8",
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/--role must be server or agent, got 'master'/);
    expect(execFileSync("bash", ["-n", script]).toString()).toBe("");
  });
});

describe("resolvers k3s can hand to pods", () => {
  test("one to three unicast addresses; loopback, link-local and multicast are refused", () => {
    expect(nameserverProblems(["129.114.97.1", "129.114.97.2"])).toEqual([]);
    expect(nameserverProblems([])).toEqual(["at least one nameserver is needed (names outside the cluster would not resolve)"]);
    expect(nameserverProblems(["1.1.1.1", "8.8.8.8", "9.9.9.9", "8.8.4.4"])).toEqual([
      "at most 3 nameservers are used by resolvers (glibc MAXNS), got 4",
    ]);
    expect(nameserverProblems(["127.0.0.53", "169.254.169.254", "224.0.0.251"])).toEqual([
      "127.0.0.53 is a loopback address, which inside a pod is the pod itself",
      "169.254.169.254 is link-local, unreachable from pods",
      "224.0.0.251 is a multicast address",
    ]);
    expect(nameserverProblems(["dns.example", "8.8.8.8"])).toEqual(['"dns.example" is not an IPv4 address']);
    expect(() => renderResolvConf(["127.0.0.53"])).toThrow("k3s resolv.conf: 127.0.0.53 is a loopback address");
  });
});
