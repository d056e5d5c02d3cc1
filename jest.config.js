/** Fast suite: `npm test`. Ceph integration tests live under test/ceph and run with `npm run test:ceph`. */
module.exports = {
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  testPathIgnorePatterns: ["/node_modules/", "<rootDir>/test/ceph/"],
  transform: { "^.+\\.ts$": ["ts-jest", {}] },
  testTimeout: 60000,
  // Installs the Debian tools the tests run for real (cloud-init, shellcheck, openssl, git) when missing.
  globalSetup: "<rootDir>/test/global-setup.ts",
};
