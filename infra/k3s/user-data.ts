/**
 * The cloud-config documents that turn plain VMs into a k3s cluster with no SSH: write_files puts the CA
 * set (server only), the k3s config, the metadata block, the user-data scrub and the bootstrap script in place,
 * then runcmd runs seed 001's hosts line and the bootstrap script with the node's parameters as an argument
 * vector (no shell quoting involved).
 *
 * Node1's document carries the leaf CA keys and the server token; an agent's carries only the agent token and
 * public certificates.
 */
import * as fs from "fs";
import * as path from "path";
import { gzipSync } from "zlib";
import { HOSTS_LINE_COMMAND, renderCloudConfig } from "./cloud-config";
import { agentConfig, K3S_CLUSTER_CIDR, K3S_CONFIG_PATH, renderK3sConfig, serverConfig, serverUrl } from "./k3s-config";
import { HOST_FIREWALL_SCRIPT_PATH, hostFirewallCommand, hostFirewallScriptText, type HostFirewallOptions } from "./host-firewall";
import { METADATA_BLOCK_UNIT, metadataBlockFiles } from "./metadata-block";
import { K3S_RESOLV_CONF_PATH, renderResolvConf } from "./resolv-conf";
import { FileMode, K3S_SERVER_TLS_DIR, ServerTlsMaterial, serverTlsFiles } from "./server-tls";
import { userDataScrubFile } from "./user-data-scrub";

export const BOOTSTRAP_SCRIPT_PATH = "/usr/local/sbin/image-pipeline-k3s-bootstrap";
/** Public CA bundle agents use to check they reach the real server before the installer runs. */
export const AGENT_SERVER_CA_PATH = "/etc/rancher/k3s/server-ca.crt";
/** Nova rejects user data above 65535 bytes once base64-encoded. */
export const NOVA_USER_DATA_LIMIT_BASE64 = 65535;

/** A download the bootstrap checks against its sha256 before it uses it. */
export interface PinnedDownload {
  readonly url: string;
  readonly sha256: string;
}

export interface K3sInstallOptions {
  /** A k3s release tag, e.g. v1.36.2+k3s1. */
  readonly version: string;
  /** install.sh from the k3s repository at the release's tag (or a mirror of it). */
  readonly installer: PinnedDownload;
  /** The release's binary and airgap images: the installer then downloads nothing (INSTALL_K3S_SKIP_DOWNLOAD). */
  readonly binary: PinnedDownload;
  readonly airgapImages: PinnedDownload;
  /** How long an agent waits for the server's supervisor before giving up. */
  readonly joinTimeoutSeconds: number;
  /** Upstream DNS resolvers of the kubelet and CoreDNS (written to K3S_RESOLV_CONF_PATH). */
  readonly nameservers: readonly string[];
  /**
   * Open what the cluster needs in firewalld before k3s is installed, where the image runs it (bare metal at
   * Chameleon). Absent: no firewall step.
   */
  readonly hostFirewall?: HostFirewallOptions;
}

export interface CloudConfigWriteFile {
  readonly path: string;
  readonly content: string;
  /** Scripts travel gzip-compressed and base64-encoded; cloud-init writes them decoded. */
  readonly encoding?: typeof SCRIPT_ENCODING;
  readonly permissions: FileMode;
  readonly owner: "root:root";
}

/** cloud-init's write_files encoding for gzip then base64 (cloudinit.readthedocs.io, module write_files). */
export const SCRIPT_ENCODING = "gz+b64";

/** The subset of cloud-config this program emits (cloudinit.readthedocs.io, modules bootcmd, write_files and runcmd). */
export interface K3sCloudConfig {
  /** Runs at every boot, before write_files (both in cloud-init's init stage, bootcmd first). */
  readonly bootcmd: string[][];
  readonly write_files: CloudConfigWriteFile[];
  readonly runcmd: (string | string[])[];
}

export interface ServerUserDataParams {
  readonly install: K3sInstallOptions;
  readonly nodeName: string;
  readonly nodeIp: string;
  readonly floatingIp: string;
  /** The server token, secure form. */
  readonly token: string;
  /** The agent token's password, which the server accepts from joining agents. */
  readonly agentTokenPassword: string;
  readonly tls: ServerTlsMaterial;
}

export interface AgentUserDataParams {
  readonly install: K3sInstallOptions;
  readonly nodeName: string;
  readonly nodeIp: string;
  readonly serverIp: string;
  /** The agent token, secure form (`K10<hash>::node:<password>`). */
  readonly agentToken: string;
  readonly serverCaBundle: string;
}

let bootstrapScript: string | undefined;
export function bootstrapScriptText(): string {
  bootstrapScript ??= fs.readFileSync(path.join(__dirname, "k3s-bootstrap.sh"), "utf8");
  return bootstrapScript;
}

/**
 * write_files creates missing parent directories 0755, so anyone on the node could list the key and token
 * directories. bootcmd runs before write_files at every boot and makes them root-only first (`install -d` sets
 * the mode whether the directory is new or not).
 */
export function privateDirectoriesCommand(dirs: readonly string[]): string[] {
  return ["install", "-d", "-m", "0700", "-o", "root", "-g", "root", ...dirs];
}

function file(filePath: string, content: string, permissions: FileMode): CloudConfigWriteFile {
  return { path: filePath, content, permissions, owner: "root:root" };
}

/**
 * An executable, compressed: the scripts are most of the user data that is not key material, and node1's
 * document must stay well inside Nova's limit. gzip without a file name or time stamp is deterministic, so the
 * user data does not change between runs.
 */
function scriptFile(filePath: string, content: string): CloudConfigWriteFile {
  return {
    path: filePath,
    content: gzipSync(content, { level: 9 }).toString("base64"),
    encoding: SCRIPT_ENCODING,
    permissions: "0700",
    owner: "root:root",
  };
}

function installArgs(role: "server" | "agent", nodeIp: string, install: K3sInstallOptions): string[] {
  return [
    BOOTSTRAP_SCRIPT_PATH,
    "--role",
    role,
    "--node-ip",
    nodeIp,
    "--k3s-version",
    install.version,
    "--installer-url",
    install.installer.url,
    "--installer-sha256",
    install.installer.sha256,
    "--binary-url",
    install.binary.url,
    "--binary-sha256",
    install.binary.sha256,
    "--airgap-images-url",
    install.airgapImages.url,
    "--airgap-images-sha256",
    install.airgapImages.sha256,
    "--metadata-block-unit",
    METADATA_BLOCK_UNIT,
  ];
}

/** Files every node gets, whatever its role: the metadata block for its k3s unit and the user-data scrub. */
function hardeningFiles(role: "server" | "agent"): CloudConfigWriteFile[] {
  return [...metadataBlockFiles(role, K3S_CLUSTER_CIDR), userDataScrubFile()].map((f) =>
    f.permissions === "0700" ? scriptFile(f.path, f.content) : file(f.path, f.content, f.permissions),
  );
}

/** The firewall script and its runcmd entry, which runs before the bootstrap, when the stack asks for it. */
function hostFirewallParts(role: "server" | "agent", install: K3sInstallOptions) {
  if (!install.hostFirewall) return { files: [], commands: [] };
  return {
    files: [scriptFile(HOST_FIREWALL_SCRIPT_PATH, hostFirewallScriptText())],
    commands: [hostFirewallCommand(role, install.hostFirewall)],
  };
}

export function serverCloudConfig(p: ServerUserDataParams): K3sCloudConfig {
  const firewall = hostFirewallParts("server", p.install);
  return {
    bootcmd: [privateDirectoriesCommand([K3S_SERVER_TLS_DIR, path.posix.dirname(K3S_CONFIG_PATH)])],
    write_files: [
      ...serverTlsFiles(p.tls).map((f) => file(f.path, f.content, f.permissions)),
      file(
        K3S_CONFIG_PATH,
        renderK3sConfig(
          serverConfig({ token: p.token, agentTokenPassword: p.agentTokenPassword, nodeIp: p.nodeIp, floatingIp: p.floatingIp }),
        ),
        "0600",
      ),
      file(K3S_RESOLV_CONF_PATH, renderResolvConf(p.install.nameservers), "0644"),
      ...hardeningFiles("server"),
      ...firewall.files,
      scriptFile(BOOTSTRAP_SCRIPT_PATH, bootstrapScriptText()),
    ],
    runcmd: [HOSTS_LINE_COMMAND, ...firewall.commands, installArgs("server", p.nodeIp, p.install)],
  };
}

export function agentCloudConfig(p: AgentUserDataParams): K3sCloudConfig {
  const firewall = hostFirewallParts("agent", p.install);
  return {
    bootcmd: [privateDirectoriesCommand([path.posix.dirname(K3S_CONFIG_PATH)])],
    write_files: [
      file(AGENT_SERVER_CA_PATH, p.serverCaBundle, "0644"),
      file(K3S_CONFIG_PATH, renderK3sConfig(agentConfig({ token: p.agentToken, nodeIp: p.nodeIp, serverIp: p.serverIp })), "0600"),
      file(K3S_RESOLV_CONF_PATH, renderResolvConf(p.install.nameservers), "0644"),
      ...hardeningFiles("agent"),
      ...firewall.files,
      scriptFile(BOOTSTRAP_SCRIPT_PATH, bootstrapScriptText()),
    ],
    runcmd: [
      HOSTS_LINE_COMMAND,
      ...firewall.commands,
      [
        ...installArgs("agent", p.nodeIp, p.install),
        "--server-url",
        serverUrl(p.serverIp),
        "--server-ca",
        AGENT_SERVER_CA_PATH,
        "--join-timeout",
        String(p.install.joinTimeoutSeconds),
      ],
    ],
  };
}

export function renderUserData(nodeName: string, config: K3sCloudConfig): string {
  const text = renderCloudConfig({ ...config });
  const encoded = Buffer.byteLength(text, "utf8");
  const base64Length = 4 * Math.ceil(encoded / 3);
  if (base64Length > NOVA_USER_DATA_LIMIT_BASE64) {
    throw new Error(
      `user data for ${nodeName} is ${base64Length} bytes base64-encoded, above Nova's ${NOVA_USER_DATA_LIMIT_BASE64}-byte limit`,
    );
  }
  return text;
}

export function serverUserData(p: ServerUserDataParams): string {
  return renderUserData(p.nodeName, serverCloudConfig(p));
}

export function agentUserData(p: AgentUserDataParams): string {
  return renderUserData(p.nodeName, agentCloudConfig(p));
}
