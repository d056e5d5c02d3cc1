/**
 * `npm run test:ceph`: integration tests against a real single-host Ceph RGW (Pacific, from Debian).
 * globalSetup installs the Debian packages when missing and starts the cluster; globalTeardown stops it
 * by PID, and a watchdog stops it if jest itself is killed. Set CEPH_TEST_CLUSTER_DIR to a directory
 * started with `ceph-cluster.ts start --dir DIR` to reuse a running cluster (it is then left running).
 */
module.exports = {
  rootDir: "../..",
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/test/ceph"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", { isolatedModules: true }] },
  globalSetup: "<rootDir>/test/ceph/global-setup.ts",
  globalTeardown: "<rootDir>/test/ceph/global-teardown.ts",
  // Persistent topics can take ~30 s to deliver the first event of a new topic.
  testTimeout: 120000,
  // Suites share one cluster; running them one at a time keeps 2 CI cores from starving radosgw.
  maxWorkers: 1,
};
