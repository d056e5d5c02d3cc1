/**
 * Which test files are integration tests: they start real services (PostgreSQL, the local S3 server, the whole local
 * pipeline, containers, network namespaces), plan the whole Pulumi program, or run CLIs in child processes. Everything
 * else is the unit lane, `npm run test:unit`, for the edit-test loop. `npm test` runs both. test/unit/lanes.test.ts
 * fails when a file that does one of those things is missing here.
 */
const INTEGRATION = [
  // Real PostgreSQL, the local S3 server, sharp pipelines, the supervisor, the image, the worker's CLI as a process.
  "test/worker/(queue|webhook|pipeline|pipeline-faults|pipeline-versions|local-supervisor|transform|app-role|main-cli)\\.test\\.ts$",
  "test/image/.*\\.test\\.ts$",
  "test/verify/(verify|verify-local)\\.test\\.ts$",
  "test/bench/.*\\.test\\.ts$",
  "test/data/database-tls\\.test\\.ts$",
  "test/k3s/(metadata-block|cloud-init-run)\\.test\\.ts$",
  // Real tools and real time: every cloud-config through cloud-init's schema check (Python), and the readiness gate
  // against TLS API servers, waiting out its deadlines.
  "test/k3s/(user-data|readiness)\\.test\\.ts$",
  // Plans of the whole program (in process or through the CLI).
  "test/(unit|k8s|k3s|data|ops)/(first-preview-stacks|first-preview|lifecycle|plan-cache|topology|bare-metal|node-image-plan|plan-example-stacks|planCli|readme-first-up|image-tooling|plan|plan-dev|plan-prod|plan-worker-settings|promotion|queue-depth-scaling|webhook-tls-plan|dataPlan|pipeline-credential|external-database|storage-site|planDiffCli|policyOverPlan|render|workflows)\\.test\\.ts$",
];

module.exports = { INTEGRATION };
