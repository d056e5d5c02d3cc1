/**
 * The deploy jobs' timeouts exceed the worst case of the waits the program itself bounds, computed from the config
 * defaults and the constants the program uses, so a slow but healthy `up` is never killed mid-way (which leaves the
 * stack locked and resources half-made).
 */
import * as fs from "fs";
import * as path from "path";
import { parse as parseYaml } from "yaml";
import { CONFIG_DEFAULTS } from "../../infra/config";
import { TROVE_ACCESS_TIMEOUT_MINUTES } from "../../infra/database";
import { MIGRATION_DEADLINE_SECONDS } from "../../k8s/migration";

const root = path.resolve(__dirname, "../..");
const deploy = parseYaml(fs.readFileSync(path.join(root, ".github/workflows/deploy.yml"), "utf8")) as {
  jobs: Record<string, { "timeout-minutes"?: number }>;
};

/** terraform-provider-openstack's default create timeout of openstack_db_instance_v1 (schema.DefaultTimeout). */
const TROVE_CREATE_DEFAULT_MINUTES = 30;
/** The migration Job's own deadline plus the slack of its Pulumi customTimeouts (infra/workload.ts). */
const MIGRATION_MINUTES = (MIGRATION_DEADLINE_SECONDS + 300) / 60;
const GATE_MINUTES = Number(CONFIG_DEFAULTS.k3sReadyTimeoutSeconds) / 60;

test("dev: timeout above lease wait + readiness gate + migration", () => {
  const worst = Number(CONFIG_DEFAULTS.leaseTimeoutMinutes) + GATE_MINUTES + MIGRATION_MINUTES;
  expect(worst).toBe(65);
  expect(deploy.jobs.dev["timeout-minutes"]).toBeGreaterThan(worst);
});

test("prod: timeout above Trove creation + its access + readiness gate + migration (no lease)", () => {
  const worst = TROVE_CREATE_DEFAULT_MINUTES + TROVE_ACCESS_TIMEOUT_MINUTES + GATE_MINUTES + MIGRATION_MINUTES;
  expect(worst).toBe(95);
  expect(deploy.jobs.prod["timeout-minutes"]).toBeGreaterThan(worst);
});
