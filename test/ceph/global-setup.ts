/**
 * Starts what the suites share: the Ceph cluster (or adopts the one named by CEPH_TEST_CLUSTER_DIR) and a
 * PostgreSQL server registered with it, so teardown and the watchdog stop both.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { registerCompanion, startCephCluster } from "./harness/cluster";
import { startPostgres } from "./harness/postgres";
import { freeLoopbackPort } from "./harness/processes";
import { OWNED_CLUSTER_ENV, POSTGRES_COMPANION, POSTGRES_URL_ENV, SHARED_CLUSTER_ENV } from "./support/cluster-env";

export default async function globalSetup(): Promise<void> {
  const log = (line: string): void => void process.stderr.write(`[ceph] ${line}\n`);
  let dir = process.env[SHARED_CLUSTER_ENV];
  if (dir) {
    const info = await startCephCluster({ dir, log });
    log(`${info.reused ? "using the running" : "started a"} cluster in ${dir}; it is left running afterwards`);
  } else {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "image-pipeline-ceph-test-"));
    process.env[OWNED_CLUSTER_ENV] = dir;
    process.env[SHARED_CLUSTER_ENV] = dir;
    // ownerPid: if jest dies without running globalTeardown, the watchdog stops the daemons.
    const info = await startCephCluster({ dir, ownerPid: process.pid, log });
    log(`timings (s): ${JSON.stringify(info.timings)}`);
  }
  const postgres = await startPostgres(await freeLoopbackPort(), log);
  registerCompanion(dir, {
    name: POSTGRES_COMPANION,
    pid: postgres.pid,
    marker: postgres.dataDir,
    stopSignal: "SIGINT",
    dir: postgres.dir,
  });
  process.env[POSTGRES_URL_ENV] = postgres.adminUrl;
}
