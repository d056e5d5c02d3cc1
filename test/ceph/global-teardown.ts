/** Stops, by PID, what globalSetup started: the whole cluster it owns, or only its PostgreSQL on an adopted cluster. */
import { clusterStatus, readClusterState, stopCephCluster, stopCompanion } from "./harness/cluster";
import { OWNED_CLUSTER_ENV, POSTGRES_COMPANION, SHARED_CLUSTER_ENV } from "./support/cluster-env";

export default async function globalTeardown(): Promise<void> {
  const log = (line: string): void => void process.stderr.write(`[ceph] ${line}\n`);
  const owned = process.env[OWNED_CLUSTER_ENV];
  if (owned) {
    const info = readClusterState(owned);
    if (info)
      log(`cluster RSS after the suites: ${((await clusterStatus(info)).residentBytes / 1048576).toFixed(0)} MiB (mon + osd + radosgw)`);
    await stopCephCluster(owned, { log });
    return;
  }
  const adopted = process.env[SHARED_CLUSTER_ENV];
  if (adopted) await stopCompanion(adopted, POSTGRES_COMPANION);
}
