/** How suites find the cluster globalSetup started. */
import { readClusterState, type CephClusterInfo } from "../harness/cluster";

/** Directory of the cluster the suites use; set by globalSetup, or by a developer to reuse a running cluster. */
export const SHARED_CLUSTER_ENV = "CEPH_TEST_CLUSTER_DIR";
/** Set only when globalSetup started the cluster itself, so globalTeardown knows to stop it. */
export const OWNED_CLUSTER_ENV = "CEPH_TEST_OWNED_CLUSTER_DIR";
/** Superuser URL of the PostgreSQL globalSetup started; suites create their own database in it. */
export const POSTGRES_URL_ENV = "CEPH_TEST_POSTGRES_URL";
export const POSTGRES_COMPANION = "postgres";

export function testCluster(): CephClusterInfo {
  const dir = process.env[SHARED_CLUSTER_ENV];
  if (!dir)
    throw new Error(`${SHARED_CLUSTER_ENV} is not set. Fix: run these tests with "npm run test:ceph" (its globalSetup starts Ceph).`);
  const info = readClusterState(dir);
  if (!info || !info.accessKeyId)
    throw new Error(
      `no ready Ceph cluster recorded in ${dir}. Fix: run "npm run test:ceph", or start one with test/ceph/ceph-cluster.ts start --dir ${dir}.`,
    );
  return info;
}

export function testPostgresAdminUrl(): string {
  const url = process.env[POSTGRES_URL_ENV];
  if (!url)
    throw new Error(`${POSTGRES_URL_ENV} is not set. Fix: run these tests with "npm run test:ceph" (its globalSetup starts PostgreSQL).`);
  return url;
}
