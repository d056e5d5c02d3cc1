/**
 * A single-host Ceph Pacific cluster (mon + memstore OSD + radosgw) on loopback, in one directory,
 * for integration tests and for developers (see ceph-cluster.ts for the CLI).
 *
 * Every daemon runs in the foreground (`-f`) as a detached child, so its PID is the daemon's PID and
 * teardown is `kill <pid>`. Running as root needs no `--setuser/--setgroup`: without those flags the
 * daemons simply keep the invoking user (the packaged systemd units are what add `--setuser ceph`).
 * The state (PIDs, ports, credentials) lives in `<dir>/cluster.json`; starting again with the same
 * directory reuses a healthy cluster and replaces a broken one.
 */
import { execFile, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { buildCephConf, MON_ID, OSD_ID, renderCephConf } from "./ceph-conf";
import { ensureCephPackages } from "./packages";
import { freeLoopbackPort, isAlive, isOurProcess, residentBytes, sleep, terminate } from "./processes";

export const RGW_NAME = "rgw.test";
export const RGW_REGION = "default";
const STATE_FILE = "cluster.json";
const STATE_VERSION = 1;

export type DaemonRole = "mon" | "osd" | "rgw";

export interface CephClusterInfo {
  version: number;
  dir: string;
  confPath: string;
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  userId: string;
  monPort: number;
  rgwPort: number;
  pids: Record<DaemonRole, number>;
  /** PID of the watchdog that tears the cluster down when its owner process dies, if one was asked for. */
  watchdogPid?: number;
  startedAt: string;
  /** Seconds spent in each phase of the start that created this cluster. */
  timings: { packages: number; mon: number; osd: number; rgw: number; user: number; total: number };
  /** Other processes of the same test run (e.g. PostgreSQL) that stop, and the watchdog, also tear down. */
  companions?: Companion[];
}

export interface Companion {
  name: string;
  pid: number;
  /** A string in the process's command line (its data directory), checked before it is signalled. */
  marker: string;
  /** PostgreSQL wants SIGINT (fast shutdown); SIGTERM waits for every client to leave. */
  stopSignal: NodeJS.Signals;
  /** Removed after the process is gone. */
  dir?: string;
}

export interface StartOptions {
  /** Cluster directory; created if missing. Defaults to `$TMPDIR/image-pipeline-ceph`. */
  dir?: string;
  /** When set, a detached watchdog stops the cluster as soon as this PID exits (e.g. a killed test runner). */
  ownerPid?: number;
  /** Install missing Debian packages (default true). */
  installPackages?: boolean;
  log?: (line: string) => void;
  /** Overall readiness budget per phase, ms (default 60 s). */
  phaseTimeoutMs?: number;
}

export function defaultClusterDir(): string {
  return path.join(os.tmpdir(), "image-pipeline-ceph");
}

export function readClusterState(dir: string): CephClusterInfo | undefined {
  try {
    const state = JSON.parse(fs.readFileSync(path.join(dir, STATE_FILE), "utf8")) as CephClusterInfo;
    return state.version === STATE_VERSION ? state : undefined;
  } catch {
    return undefined;
  }
}

function writeClusterState(info: CephClusterInfo): void {
  const file = path.join(info.dir, STATE_FILE);
  fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(`${file}.tmp`, file);
}

function httpStatus(url: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(0));
  });
}

export interface ClusterStatus {
  running: boolean;
  daemons: Record<DaemonRole, boolean>;
  gatewayHttpStatus: number;
  residentBytes: number;
}

export async function clusterStatus(info: CephClusterInfo): Promise<ClusterStatus> {
  const daemons = {
    mon: isOurProcess(info.pids.mon, info.confPath),
    osd: isOurProcess(info.pids.osd, info.confPath),
    rgw: isOurProcess(info.pids.rgw, info.confPath),
  };
  const gatewayHttpStatus = daemons.rgw ? await httpStatus(`${info.endpoint}/`, 2000) : 0;
  const rss = Object.values(info.pids).reduce((sum, pid) => sum + residentBytes(pid), 0);
  return {
    running: daemons.mon && daemons.osd && daemons.rgw && gatewayHttpStatus === 200,
    daemons,
    gatewayHttpStatus,
    residentBytes: rss,
  };
}

function logTail(dir: string, name: string, lines = 30): string {
  for (const file of [path.join(dir, "log", `${name}.log`), path.join(dir, "log", `${name}.out`)]) {
    try {
      const text = fs.readFileSync(file, "utf8").trimEnd().split("\n");
      if (text.length > 0 && text[0] !== "") return `--- last lines of ${file}\n${text.slice(-lines).join("\n")}`;
    } catch {
      // try the next file
    }
  }
  return `(no log for ${name} in ${dir}/log)`;
}

class ClusterBuilder {
  constructor(
    private readonly dir: string,
    private readonly confPath: string,
    private readonly log: (line: string) => void,
    private readonly phaseTimeoutMs: number,
  ) {}

  /** Runs a Ceph CLI tool to completion; rejects with its output on failure. */
  run(binary: string, args: string[], timeoutMs = 30_000): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(binary, ["-c", this.confPath, ...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err) reject(new Error(`${binary} ${args.join(" ")} failed: ${err.message}\n${stderr}`.trim()));
        else resolve(stdout);
      });
    });
  }

  /** Starts a daemon in the foreground, detached into its own session so a terminal's Ctrl-C does not reach it. */
  startDaemon(binary: string, args: string[], logName: string): number {
    const out = fs.openSync(path.join(this.dir, "log", `${logName}.out`), "a");
    try {
      const child = spawn(binary, ["-c", this.confPath, "-f", ...args], { detached: true, stdio: ["ignore", out, out] });
      if (child.pid === undefined) throw new Error(`could not start ${binary}`);
      child.unref();
      this.log(`started ${binary} ${args.join(" ")} (pid ${child.pid})`);
      return child.pid;
    } finally {
      fs.closeSync(out);
    }
  }

  async waitFor(what: string, daemon: { pid: number; logName: string }, probe: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + this.phaseTimeoutMs;
    let lastError = "";
    while (Date.now() < deadline) {
      if (!isAlive(daemon.pid)) {
        throw new Error(`${daemon.logName} (pid ${daemon.pid}) exited while waiting for ${what}.\n${logTail(this.dir, daemon.logName)}`);
      }
      try {
        if (await probe()) return;
      } catch (err) {
        lastError = (err as Error).message;
      }
      await sleep(250);
    }
    throw new Error(`timed out after ${this.phaseTimeoutMs} ms waiting for ${what}. ${lastError}\n${logTail(this.dir, daemon.logName)}`);
  }
}

function randomKey(length: number, alphabet: string): string {
  const bytes = randomBytes(length);
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join("");
}

const seconds = (since: bigint): number => Math.round(Number(process.hrtime.bigint() - since) / 1e6) / 1000;

/**
 * Starts the cluster, or returns the running one recorded in `dir`. Resolves once S3 answers and the user exists.
 * On failure everything it started is stopped again.
 */
export async function startCephCluster(options: StartOptions = {}): Promise<CephClusterInfo & { reused: boolean }> {
  const log = options.log ?? (() => undefined);
  const dir = path.resolve(options.dir ?? defaultClusterDir());
  const phaseTimeoutMs = options.phaseTimeoutMs ?? 60_000;

  const existing = readClusterState(dir);
  if (existing) {
    const status = await clusterStatus(existing);
    if (status.running) {
      log(`reusing the cluster in ${dir} (${existing.endpoint})`);
      return { ...existing, reused: true };
    }
    log(`the cluster recorded in ${dir} is not healthy (${JSON.stringify(status.daemons)}); replacing it`);
  }
  await stopCephCluster(dir, { log });

  const total = process.hrtime.bigint();
  let phase = process.hrtime.bigint();
  const installed = options.installPackages === false ? { installed: [], seconds: 0 } : ensureCephPackages(log);
  if (installed.installed.length > 0) log(`installed ${installed.installed.join(" ")} in ${installed.seconds.toFixed(1)} s`);
  const timings = { packages: seconds(phase), mon: 0, osd: 0, rgw: 0, user: 0, total: 0 };

  for (const sub of ["run", "log", `mon/ceph-${MON_ID}`, `osd/ceph-${OSD_ID}`, "rgw"])
    fs.mkdirSync(path.join(dir, sub), { recursive: true });
  const confPath = path.join(dir, "ceph.conf");
  const monPort = await freeLoopbackPort();
  const rgwPort = await freeLoopbackPort(new Set([monPort]));
  const fsid = randomUUID();
  fs.writeFileSync(confPath, renderCephConf(buildCephConf({ dir, fsid, monPort, rgwPort, rgwName: RGW_NAME })));

  const builder = new ClusterBuilder(dir, confPath, log, phaseTimeoutMs);
  const pids: Partial<Record<DaemonRole, number>> = {};
  const endpoint = `http://127.0.0.1:${rgwPort}`;
  let watchdogPid: number | undefined;
  const partial = (): CephClusterInfo => ({
    version: STATE_VERSION,
    dir,
    confPath,
    endpoint,
    region: RGW_REGION,
    accessKeyId: "",
    secretAccessKey: "",
    userId: "",
    monPort,
    rgwPort,
    pids: { mon: pids.mon ?? 0, osd: pids.osd ?? 0, rgw: pids.rgw ?? 0 },
    ...(watchdogPid !== undefined ? { watchdogPid } : {}),
    startedAt: new Date().toISOString(),
    timings,
  });

  try {
    // The watchdog guards the start itself too: a runner killed during these ~15 s leaves nothing behind.
    writeClusterState(partial());
    if (options.ownerPid !== undefined) {
      watchdogPid = startWatchdog(dir, options.ownerPid);
      writeClusterState(partial());
    }

    phase = process.hrtime.bigint();
    const monmap = path.join(dir, "monmap");
    await new Promise<void>((resolve, reject) =>
      execFile(
        "monmaptool",
        ["--create", "--clobber", "--fsid", fsid, "--addv", MON_ID, `[v2:127.0.0.1:${monPort}]`, monmap],
        (err, _o, stderr) => (err ? reject(new Error(`monmaptool failed: ${stderr || err.message}`)) : resolve()),
      ),
    );
    await builder.run("ceph-mon", ["--mkfs", "-i", MON_ID, "--monmap", monmap]);
    pids.mon = builder.startDaemon("ceph-mon", ["-i", MON_ID], `mon.${MON_ID}`);
    writeClusterState(partial());
    await builder.waitFor("the mon to form a quorum", { pid: pids.mon, logName: `mon.${MON_ID}` }, async () => {
      const stat = JSON.parse(await builder.run("ceph", ["mon", "stat", "-f", "json"], 15_000)) as { quorum?: unknown[] };
      return Array.isArray(stat.quorum) && stat.quorum.length === 1;
    });
    timings.mon = seconds(phase);

    phase = process.hrtime.bigint();
    const osdUuid = randomUUID();
    const osdId = (await builder.run("ceph", ["osd", "new", osdUuid])).trim();
    if (osdId !== String(OSD_ID)) throw new Error(`expected the first OSD to get id ${OSD_ID}, the mon gave ${osdId}`);
    await builder.run("ceph-osd", ["-i", String(OSD_ID), "--mkfs", "--osd-uuid", osdUuid]);
    pids.osd = builder.startDaemon("ceph-osd", ["-i", String(OSD_ID)], `osd.${OSD_ID}`);
    writeClusterState(partial());
    await builder.waitFor("the OSD to be up", { pid: pids.osd, logName: `osd.${OSD_ID}` }, async () => {
      const dump = JSON.parse(await builder.run("ceph", ["osd", "dump", "-f", "json"], 15_000)) as {
        osds?: { osd: number; up: number; in: number }[];
      };
      return (dump.osds ?? []).some((osd) => osd.osd === OSD_ID && osd.up === 1 && osd.in === 1);
    });
    timings.osd = seconds(phase);

    phase = process.hrtime.bigint();
    pids.rgw = builder.startDaemon("radosgw", ["-n", `client.${RGW_NAME}`], `client.${RGW_NAME}`);
    writeClusterState(partial());
    // The first start creates RGW's pools, which is most of this wait.
    await builder.waitFor(
      "radosgw to answer HTTP 200",
      { pid: pids.rgw, logName: `client.${RGW_NAME}` },
      async () => (await httpStatus(`${endpoint}/`, 2000)) === 200,
    );
    timings.rgw = seconds(phase);

    phase = process.hrtime.bigint();
    const userId = "pipeline-test";
    const accessKeyId = randomKey(20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
    const secretAccessKey = randomKey(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
    await builder.run("radosgw-admin", [
      "user",
      "create",
      "--uid",
      userId,
      "--display-name",
      "image-pipeline tests",
      "--access-key",
      accessKeyId,
      "--secret-key",
      secretAccessKey,
    ]);
    timings.user = seconds(phase);
    timings.total = seconds(total);

    const info: CephClusterInfo = { ...partial(), accessKeyId, secretAccessKey, userId };
    writeClusterState(info);
    log(`cluster ready at ${endpoint} in ${timings.total} s`);
    return { ...info, reused: false };
  } catch (err) {
    log(`start failed, stopping what was started: ${(err as Error).message.split("\n")[0]}`);
    await stopCephCluster(dir, { log, keepDir: true }).catch(() => undefined);
    throw err;
  }
}

function startWatchdog(dir: string, ownerPid: number): number {
  const script = path.join(__dirname, "watchdog.ts");
  const child = spawn(process.execPath, ["-r", require.resolve("ts-node/register/transpile-only"), script, dir, String(ownerPid)], {
    detached: true,
    stdio: "ignore",
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
  });
  if (child.pid === undefined) throw new Error("could not start the Ceph watchdog");
  child.unref();
  return child.pid;
}

export interface StopOptions {
  log?: (line: string) => void;
  /** Keep the directory (logs) instead of deleting it. */
  keepDir?: boolean;
  /** ms to wait after SIGTERM before SIGKILL (default 10 s). */
  graceMs?: number;
  /** Set by the watchdog itself so it does not signal its own PID. */
  calledFromWatchdog?: boolean;
}

/** Stops every process recorded in `dir` by PID and removes the directory. Safe to call when nothing runs. */
export async function stopCephCluster(dir: string, options: StopOptions = {}): Promise<void> {
  const log = options.log ?? (() => undefined);
  const info = readClusterState(dir);
  if (info) {
    if (info.watchdogPid && !options.calledFromWatchdog) await terminate([info.watchdogPid], dir, 2000);
    for (const companion of info.companions ?? []) {
      await terminate([companion.pid], companion.marker, options.graceMs ?? 10_000, companion.stopSignal);
      if (companion.dir && !options.keepDir) fs.rmSync(companion.dir, { recursive: true, force: true });
      log(`stopped ${companion.name} (pid ${companion.pid})`);
    }
    // radosgw first so it does not log a storm of errors while the OSD and mon go away.
    await terminate([info.pids.rgw].filter(Boolean), info.confPath, options.graceMs ?? 10_000);
    const killed = await terminate([info.pids.osd, info.pids.mon].filter(Boolean), info.confPath, options.graceMs ?? 10_000);
    log(`stopped the cluster in ${dir}${killed.length > 0 ? ` (SIGKILL needed for ${killed.join(", ")})` : ""}`);
  }
  if (!options.keepDir && fs.existsSync(dir)) {
    if (!info && fs.readdirSync(dir).length > 0 && !fs.existsSync(path.join(dir, "ceph.conf"))) {
      throw new Error(`refusing to delete ${dir}: it is not a Ceph test cluster directory (no ${STATE_FILE} or ceph.conf).`);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Records a process of the same test run so that stopCephCluster and the watchdog stop it too. */
export function registerCompanion(dir: string, companion: Companion): void {
  const info = readClusterState(dir);
  if (!info) throw new Error(`no cluster recorded in ${dir}; start it before registering ${companion.name}`);
  writeClusterState({ ...info, companions: [...(info.companions ?? []).filter((c) => c.name !== companion.name), companion] });
}

/** Stops one companion by name and forgets it; the cluster keeps running. */
export async function stopCompanion(dir: string, name: string): Promise<void> {
  const info = readClusterState(dir);
  const companion = info?.companions?.find((c) => c.name === name);
  if (!info || !companion) return;
  await terminate([companion.pid], companion.marker, 10_000, companion.stopSignal);
  if (companion.dir) fs.rmSync(companion.dir, { recursive: true, force: true });
  writeClusterState({ ...info, companions: info.companions!.filter((c) => c.name !== name) });
}
