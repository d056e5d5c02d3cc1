/**
 * podman as this project runs it: as root, with a private containers.conf (CONTAINERS_CONF) and its storage
 * (--root) and run state (--runroot) in one work directory, so nothing machine-wide changes and a test can
 * remove it all. On this kind of machine (Debian 12 in a VM with hybrid cgroups) crun refuses to start
 * containers ("cgroups in hybrid mode not supported") and podman's default rlimits cannot be applied
 * ("setrlimit RLIMIT_NOFILE: Operation not permitted"): the configuration selects runc with cgroupfs, a
 * file events log (no journald), and ulimits no higher than this process's own hard limit.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ensurePackages, findExecutable } from "../../test/support/system-packages";

/** The Debian packages podman needs here, by the binary each provides. */
export const PODMAN_BINARIES = {
  podman: "podman",
  runc: "runc",
} as const;

/** What building a base from Debian's packages adds (the stand-in bases; not needed with a registry's base). */
export const DEBIAN_BASE_BINARIES = {
  mmdebstrap: "mmdebstrap",
} as const;

/** Default work directory: shared by `npm run image`, the image tests and `npm run local -- --image`. */
export const DEFAULT_PODMAN_DIR = process.env.IMAGE_PIPELINE_PODMAN_DIR ?? "/var/tmp/image-pipeline-podman";

/** The hard limit on open files of this process (`ulimit -Hn`); a container may not be given more. */
export function hardNofileLimit(): number {
  const out = spawnSync("sh", ["-c", "ulimit -Hn"], { encoding: "utf8" });
  const value = out.stdout.trim();
  if (value === "unlimited") return 1048576;
  const n = Number(value);
  if (out.status !== 0 || !Number.isInteger(n) || n <= 0) throw new Error(`cannot read the open-files hard limit (ulimit -Hn): ${value}`);
  return n;
}

/** The text of the private containers.conf (TOML). */
export function containersConf(nofile: number): string {
  return [
    "# Written by scripts/image/podman.ts; used only through CONTAINERS_CONF.",
    "[containers]",
    `default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=4096:4096"]`,
    "",
    "[engine]",
    'runtime = "runc"',
    'cgroup_manager = "cgroupfs"',
    'events_logger = "file"',
    "",
  ].join("\n");
}

export class PodmanError extends Error {}

export interface PodmanResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export class Podman {
  readonly confFile: string;
  readonly root: string;
  readonly runroot: string;

  constructor(readonly workDir: string = DEFAULT_PODMAN_DIR) {
    this.confFile = path.join(workDir, "containers.conf");
    this.root = path.join(workDir, "storage");
    this.runroot = path.join(workDir, "run");
  }

  /**
   * Installs podman and runc (and mmdebstrap, with `debianBases`) when missing (apt-get as root), writes the configuration and checks
   * that podman can run here; throws a PodmanError naming what failed and the fix otherwise.
   */
  static setUp(options: { workDir?: string; debianBases?: boolean; log?: (line: string) => void } = {}): Podman {
    const { workDir = DEFAULT_PODMAN_DIR, debianBases = true, log = () => undefined } = options;
    if (process.platform !== "linux")
      throw new PodmanError(`podman builds and runs the image on Linux only (this is ${process.platform}).`);
    try {
      const result = ensurePackages({ ...PODMAN_BINARIES, ...(debianBases ? DEBIAN_BASE_BINARIES : {}) }, log);
      if (result.installed.length > 0) log(`installed ${result.installed.join(", ")} in ${result.seconds.toFixed(0)} s`);
    } catch (err) {
      throw new PodmanError(`cannot install the image tools: ${(err as Error).message}`);
    }
    const podman = new Podman(workDir);
    podman.writeConfig();
    podman.check();
    return podman;
  }

  writeConfig(): void {
    fs.mkdirSync(this.workDir, { recursive: true, mode: 0o700 });
    const text = containersConf(hardNofileLimit());
    if (!fs.existsSync(this.confFile) || fs.readFileSync(this.confFile, "utf8") !== text) fs.writeFileSync(this.confFile, text);
  }

  /** The environment podman runs with: only CONTAINERS_CONF is added. */
  env(): NodeJS.ProcessEnv {
    return { ...process.env, CONTAINERS_CONF: this.confFile };
  }

  /** podman's global options: this work directory's storage and run state. */
  globalArgs(): string[] {
    return ["--root", this.root, "--runroot", this.runroot];
  }

  /** Runs `podman <args>` to completion. */
  run(args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): PodmanResult {
    const r: SpawnSyncReturns<string> = spawnSync("podman", [...this.globalArgs(), ...args], {
      env: this.env(),
      encoding: "utf8",
      input: options.input,
      timeout: options.timeoutMs,
      maxBuffer: 256 * 1024 * 1024,
    });
    if (r.error) throw new PodmanError(`podman ${args[0]}: ${r.error.message}`);
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** Runs `podman <args>` and returns its stdout; throws with its stderr when it fails. */
  ok(args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): string {
    const r = this.run(args, options);
    if (r.status !== 0)
      throw new PodmanError(`podman ${args.join(" ")} failed (exit ${r.status}):\n${(r.stderr || r.stdout).trim().slice(-4000)}`);
    return r.stdout;
  }

  /** Runs `podman <args>` streaming its output to this process's stderr (long builds show progress). */
  stream(args: readonly string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn("podman", [...this.globalArgs(), ...args], { env: this.env(), stdio: ["ignore", "inherit", "inherit"] });
      child.on("error", (err) => reject(new PodmanError(`podman ${args[0]}: ${err.message}`)));
      child.on("exit", (code, signal) =>
        code === 0 ? resolve() : reject(new PodmanError(`podman ${args.join(" ")} failed (exit ${code ?? signal}); its output is above.`)),
      );
    });
  }

  imageExists(ref: string): boolean {
    return this.run(["image", "exists", ref]).status === 0;
  }

  /**
   * Checks that podman can start a container here, with a clear message when it cannot (not root, no runc,
   * a kernel or sandbox that refuses namespaces).
   */
  check(): void {
    for (const binary of ["podman", "runc"])
      if (!findExecutable(binary)) throw new PodmanError(`${binary} is not on PATH. Fix: apt-get install -y ${binary}`);
    if (process.getuid?.() !== 0)
      throw new PodmanError(
        "podman runs rootful here (storage under the work directory, runc with cgroupfs); run `npm run image` as root, e.g. sudo npm run image",
      );
    const info = this.run(["info", "--format", "{{.Host.OCIRuntime.Name}} {{.Host.CgroupManager}}"]);
    if (info.status !== 0)
      throw new PodmanError(`podman cannot run on this machine (podman info failed):\n${info.stderr.trim().slice(-2000)}`);
    const [runtime, cgroups] = info.stdout.trim().split(" ");
    if (runtime !== "runc" || cgroups !== "cgroupfs")
      throw new PodmanError(`podman ignored ${this.confFile}: runtime ${runtime}, cgroup manager ${cgroups} (want runc, cgroupfs)`);
  }
}
