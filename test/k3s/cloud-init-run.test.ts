/**
 * The nodes' user data run under real cloud-init (Debian's 22.4) in podman containers: the NoCloud seed, all
 * four stages, stubs for the network (curl serves a stub k3s installer and the server's /cacerts) and for
 * systemd (systemctl records). A stronger check than `cloud-init schema` and shellcheck: every module runs,
 * every file is written, the bootstrap runs with the arguments cloud-init gives it.
 *
 * What a Debian container cannot show about an Ubuntu 24.04 node: Ubuntu's cloud-init is a newer release
 * (24.x/25.x: other defaults, `recoverable_errors` in the status, combined-cloud-config.json under /run);
 * there is no systemd here, so cloud-init's units, their ordering against the network, and the metadata-block
 * and k3s units are not run (systemctl is a stub); there is no netplan, so the interface and its address come
 * from the harness, not from the OpenStack datasource's network configuration; and the datasource is NoCloud,
 * not OpenStack's metadata service or config drive. Those are left to a real node's boot (docs/operations.md).
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { parseStackConfig } from "../../infra/config";
import { AGENT_TOKEN_USER, secureJoinToken } from "../../infra/k3s/join-token";
import { K3S_CONFIG_PATH } from "../../infra/k3s/k3s-config";
import { K3S_SERVER_TLS_DIR, serverCaBundle } from "../../infra/k3s/server-tls";
import { AGENT_SERVER_CA_PATH, agentUserData, serverUserData, type K3sCloudConfig } from "../../infra/k3s/user-data";
import { METADATA_BLOCK_UNIT } from "../../infra/k3s/metadata-block";
import { Podman } from "../../scripts/image/podman";
import { describeWithPodman } from "../support/podman-tests";
import { mapSource, stackValues } from "../support/configSource";
import { decodedContent } from "./support/cloud-config";
import { ensureCloudInitBase } from "./support/cloud-init-base";
import { bootNode, HARNESS_INSTALLER_PATH, HARNESS_K3S_PATH, STAGES, STUB_AIRGAP_IMAGES, type NodeRun } from "./support/cloud-init-node";
import { buildPkiWithOpenssl, type OpensslPki } from "./support/openssl-pki";

const NOW = new Date("2026-11-22T12:00:00Z");
const FLOATING_IP = "203.0.113.10";
const PASSWORD = "Q7pLx2Vn9Rk4Ts8Wy3Bz6Cd1Fg5Hj0MmAa2Ee4Ii6Oo8Uu0Nn";
const AGENT_PASSWORD = "Zx8Cv7Bn6Mm5Lk4Jh3Gf2Ds1Aa0Qw9Er8Ty7Ui6Op5As4Df3";
/** Directories that hold keys or tokens: only root may list them. */
const KEY_DIRS = [K3S_SERVER_TLS_DIR, path.dirname(K3S_CONFIG_PATH)];

const stackConfig = (stack: string) => parseStackConfig(mapSource(stackValues(stack)), stack, NOW);
const cfg = stackConfig("dev");
const [serverIp, agentIp] = cfg.network.privateIps;
type Install = Parameters<typeof serverUserData>[0]["install"];
const sha256 = (content: string | Buffer) => createHash("sha256").update(content).digest("hex");
/** The stack's URLs, pinned to what the stub curl serves there (the real pins are tested in user-data.test.ts). */
const installOf = (c: typeof cfg): Install => ({
  version: c.k3s.version,
  installer: { url: c.k3s.installer.url, sha256: sha256(fs.readFileSync(HARNESS_INSTALLER_PATH)) },
  binary: { url: c.k3s.binary.url, sha256: sha256(fs.readFileSync(HARNESS_K3S_PATH)) },
  airgapImages: { url: c.k3s.airgapImages.url, sha256: sha256(STUB_AIRGAP_IMAGES) },
  joinTimeoutSeconds: c.k3s.joinTimeoutSeconds,
  nameservers: c.network.dnsNameservers,
});
const install = installOf(cfg);
/** What the bootstrap downloads, in order: the installer, the binary, the images. */
const downloadsOf = (i: Install) => [i.installer.url, i.binary.url, i.airgapImages.url];

let podman: Podman;
let base: string;
let pki: OpensslPki;

function serverDoc(c = cfg): string {
  return serverUserData({
    install: installOf(c),
    nodeName: "node1",
    nodeIp: c.network.privateIps[0],
    floatingIp: FLOATING_IP,
    token: secureJoinToken(pki.cas.root.certPem, PASSWORD),
    agentTokenPassword: AGENT_PASSWORD,
    tls: pki.material,
  });
}

function agentDoc(nodeName = "node2", nodeIp = agentIp, c = cfg): string {
  return agentUserData({
    install: installOf(c),
    nodeName,
    nodeIp,
    serverIp: c.network.privateIps[0],
    agentToken: secureJoinToken(pki.cas.root.certPem, AGENT_PASSWORD, AGENT_TOKEN_USER),
    serverCaBundle: serverCaBundle(pki.material),
  });
}

function boot(
  name: string,
  userData: string,
  privateIp: string,
  extra: Partial<Parameters<typeof bootNode>[2]> = {},
  urls: Install = install,
): NodeRun {
  const doc = parseYaml(userData) as K3sCloudConfig;
  return bootNode(
    podman,
    base,
    {
      name,
      userData,
      privateIp,
      installerUrl: urls.installer.url,
      binaryUrl: urls.binary.url,
      airgapImagesUrl: urls.airgapImages.url,
      inspect: doc.write_files.map((f) => f.path),
      ...extra,
    },
    KEY_DIRS,
  );
}

function expectClean(run: NodeRun): void {
  expect(run.stages.map((s) => [s.stage, s.status])).toEqual(STAGES.map((s) => [s, 0]));
  expect(run.status).toMatch(/^status: done$/m);
  expect(run.resultErrors).toEqual([]);
  expect(run.warnings).toEqual([]);
}

function expectFilesAsWritten(run: NodeRun, userData: string): void {
  const doc = parseYaml(userData) as K3sCloudConfig;
  for (const f of doc.write_files) {
    const written = run.files[f.path];
    expect({ path: f.path, mode: written?.mode, owner: written?.owner }).toEqual({ path: f.path, mode: f.permissions, owner: f.owner });
    expect({ path: f.path, identical: written?.content.equals(Buffer.from(decodedContent(f), "utf8")) }).toEqual({
      path: f.path,
      identical: true,
    });
    if (/\.key$|config\.yaml$/.test(f.path)) expect({ path: f.path, mode: written?.mode }).toEqual({ path: f.path, mode: "0600" });
  }
}

describeWithPodman("user data under real cloud-init (podman, Debian bookworm)", () => {
  beforeAll(() => {
    podman = Podman.setUp();
    base = ensureCloudInitBase(podman, (l) => void process.stderr.write(`[cloud-init base] ${l}\n`));
    pki = buildPkiWithOpenssl("cloud-init-run");
  }, 600_000);

  afterAll(() => {
    if (pki) fs.rmSync(pki.dir, { recursive: true, force: true });
  });

  describe("the server (node1)", () => {
    let userData: string;
    let run: NodeRun;
    beforeAll(() => {
      userData = serverDoc();
      run = boot("node1", userData, serverIp);
    }, 300_000);

    test("every stage exits 0, the status is done, with no warning or error in cloud-init's log", () => {
      expectClean(run);
    });

    test("every written file is byte-identical to the user data, with its mode and owner (keys and config 0600)", () => {
      expectFilesAsWritten(run, userData);
    });

    test("the key directories are created 0700", () => {
      expect(run.dirModes).toEqual(Object.fromEntries(KEY_DIRS.map((d) => [d, "0700"])));
    });

    test("the installer runs once, as server on ens3, with the pinned version, told to download nothing, and no other INSTALL_K3S_ setting", () => {
      expect(run.installerArgs).toEqual(["server", "--flannel-iface", "ens3"]);
      expect(run.installerEnv).toEqual(["INSTALL_K3S_SKIP_DOWNLOAD=true", `INSTALL_K3S_VERSION=${install.version}`]);
      expect(run.curlCalls.map((c) => c.url)).toEqual(downloadsOf(install));
      expect(run.systemctl).toEqual(["daemon-reload", `enable --now ${METADATA_BLOCK_UNIT}`]);
    });

    test("the fake k3s finds its configuration and the CA set it reads on first start", () => {
      expect(run.k3s?.problems).toEqual([]);
      expect(run.k3s?.config).toMatchObject({
        "node-ip": serverIp,
        "advertise-address": serverIp,
        "tls-san": expect.arrayContaining([FLOATING_IP]),
      });
      const keys = Object.entries(run.k3s?.tls ?? {}).filter(([name]) => name.endsWith(".key"));
      expect(keys.length).toBeGreaterThan(3);
      for (const [name, f] of keys) expect({ name, ...f }).toEqual({ name, mode: "0600", pem: true });
    });

    test("the console shows the bootstrap's progress; the user data's plain-text copies are scrubbed", () => {
      expect(run.console).toMatch(`k3s-bootstrap: private network ${serverIp} is on ens3`);
      expect(run.console).toMatch(`k3s-bootstrap: k3s server installed`);
      expect(run.console).toMatch(/scrub-user-data: removed [1-9]\d* copies of the user data/);
    });
  });

  describe("an agent (node2)", () => {
    let userData: string;
    let run: NodeRun;
    beforeAll(() => {
      userData = agentDoc();
      run = boot("node2", userData, agentIp, { addressDelaySeconds: 3, cacertsRefusals: 1 });
    }, 300_000);

    test("every stage exits 0, the status is done, with no warning", () => {
      expectClean(run);
    });

    test("every written file is byte-identical, with its mode and owner; the config directory is 0700", () => {
      expectFilesAsWritten(run, userData);
      expect(run.dirModes[path.dirname(K3S_CONFIG_PATH)]).toBe("0700");
      expect(run.dirModes[K3S_SERVER_TLS_DIR]).toBeNull();
    });

    test("waits for its private address, then for the server's /cacerts (checked with the CA bundle), then installs", () => {
      expect(run.addressTime).toBeDefined();
      expect(run.installerTime).toBeGreaterThan(run.addressTime!);
      const cacerts = run.curlCalls.filter((c) => c.url === `https://${serverIp}:6443/cacerts`);
      expect(cacerts).toHaveLength(2);
      for (const c of cacerts) expect(c.cacert).toBe(AGENT_SERVER_CA_PATH);
      expect(run.curlCalls.map((c) => c.url)).toEqual([...cacerts.map((c) => c.url), ...downloadsOf(install)]);
      expect(cacerts[0].time).toBeGreaterThan(run.addressTime!);
      expect(run.console).toMatch(`k3s-bootstrap: waiting up to ${install.joinTimeoutSeconds}s for the server at https://${serverIp}:6443`);
    });

    test("the installer runs as agent on ens3 with the pinned version; the fake k3s finds server, token and node-ip", () => {
      expect(run.installerArgs).toEqual(["agent", "--flannel-iface", "ens3"]);
      expect(run.installerEnv).toEqual(["INSTALL_K3S_SKIP_DOWNLOAD=true", `INSTALL_K3S_VERSION=${install.version}`]);
      expect(run.k3s?.problems).toEqual([]);
      expect(run.k3s?.config).toMatchObject({ server: `https://${serverIp}:6443`, "node-ip": agentIp });
    });
  });

  describe("the stack's other agents", () => {
    const others = cfg.network.privateIps.slice(2).map((ip, i) => ({ name: `node${i + 3}`, ip }));
    test.each(others)(
      "$name ($ip) boots cleanly with every file as written",
      ({ name, ip }) => {
        const userData = agentDoc(name, ip);
        const run = boot(name, userData, ip);
        expectClean(run);
        expectFilesAsWritten(run, userData);
        expect(run.installerArgs).toEqual(["agent", "--flannel-iface", "ens3"]);
        expect(run.k3s?.config).toMatchObject({ "node-ip": ip });
      },
      300_000,
    );

    test("the dev stack has at least one more agent to boot", () => {
      expect(others.length).toBeGreaterThan(0);
    });
  });

  describe("the prod stack's nodes", () => {
    const prod = stackConfig("prod");
    const nodes = prod.network.privateIps.map((ip, i) => ({ name: `prod-node${i + 1}`, ip, role: i === 0 ? "server" : "agent" }));
    test.each(nodes)(
      "$name ($role, $ip) boots cleanly with every file as written",
      ({ name, ip, role }) => {
        const userData = role === "server" ? serverDoc(prod) : agentDoc(name, ip, prod);
        const run = boot(name, userData, ip, {}, installOf(prod));
        expectClean(run);
        expectFilesAsWritten(run, userData);
        expect(run.installerArgs).toEqual([role, "--flannel-iface", "ens3"]);
        expect(run.installerEnv).toEqual(["INSTALL_K3S_SKIP_DOWNLOAD=true", `INSTALL_K3S_VERSION=${prod.k3s.version}`]);
        expect(run.k3s?.problems).toEqual([]);
      },
      300_000,
    );
  });

  describe("a failed installer download", () => {
    let run: NodeRun;
    beforeAll(() => {
      run = boot("failed-download", serverDoc(), serverIp, { failDownload: true });
    }, 300_000);

    test("ends in status error, with the installer never run", () => {
      expect(run.stages.map((s) => s.status).slice(0, 3)).toEqual([0, 0, 0]);
      expect(run.status).toMatch(/^status: error$/m);
      expect(run.installerArgs).toBeUndefined();
    });

    test("the console names the failed step and the URL, not only curl's own error", () => {
      expect(run.console).toMatch("curl: (22) The requested URL returned error: 404");
      expect(run.console).toMatch(
        `k3s-bootstrap: error: downloading the k3s installer from ${install.installer.url} failed (curl exit 22)`,
      );
    });
  });

  describe("a failed installer", () => {
    let run: NodeRun;
    beforeAll(() => {
      run = boot("failed-installer", agentDoc(), agentIp, { failInstaller: true });
    }, 300_000);

    test("ends in status error; the console names the installer, its URL, the version and the role", () => {
      expect(run.status).toMatch(/^status: error$/m);
      expect(run.installerArgs).toEqual(["agent", "--flannel-iface", "ens3"]);
      expect(run.console).toMatch(
        `k3s-bootstrap: error: the k3s installer from ${install.installer.url} failed (exit 1) installing k3s ${install.version} as agent`,
      );
    });
  });
});

test("the harness's cloud.cfg.d only selects the datasource, disables network configuration and sets what minbase lacks", () => {
  // Everything else is the user data's: a harness setting must not hide a problem of the generated documents.
  const { HARNESS_CLOUD_CFG } = jest.requireActual("./support/cloud-init-node");
  expect(parseYaml(HARNESS_CLOUD_CFG)).toEqual({
    datasource_list: ["NoCloud", "None"],
    network: { config: "disabled" },
    locale: "C.UTF-8",
  });
  expect(os.platform()).toBe("linux");
});
