/**
 * `npm test` runs both lanes; `npm run test:unit` only the fast one (test/lanes.js says which files are integration
 * tests). Ceph integration tests live under test/ceph and run with `npm run test:ceph`.
 */
const { INTEGRATION } = require("./test/lanes");

const common = {
  preset: "ts-jest",
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: { "^.+\\.ts$": ["ts-jest", {}] },
};
const ignored = ["/node_modules/", "<rootDir>/test/ceph/"];

module.exports = {
  testTimeout: 60000,
  // Installs the Debian tools the tests run for real (cloud-init, shellcheck, openssl, git, ...) when missing.
  globalSetup: "<rootDir>/test/global-setup.ts",
  projects: [
    { ...common, displayName: "unit", testPathIgnorePatterns: [...ignored, ...INTEGRATION] },
    {
      ...common,
      displayName: "integration",
      testPathIgnorePatterns: ignored,
      testRegex: INTEGRATION,
      testMatch: undefined,
    },
  ],
};
