/** The dev stack's offline plan: the workload on the cluster (Chameleon, in-cluster PostgreSQL, 1 to 3 workers). */
import { planOnce } from "../support/plan";
import { STAND_IN_WORKER_IMAGE } from "../../scripts/plan-stand-ins";
import { commonPlanTests } from "./support/planAssertions";

const plan = planOnce("dev");

describe("dev plan: workload", () => {
  commonPlanTests("dev", plan, { min: 1, max: 3 });

  test("dev deploys the digest from its own config", async () => {
    // Pulumi.dev.yaml leaves workerImage to the operator (a placeholder could not be pulled); the offline plan's
    // stand-in is what its config holds here.
    expect((await plan()).outputs.workerImage).toBe(STAND_IN_WORKER_IMAGE);
  });
});

test("dev leaves alertRules off: no PrometheusRule, whose CRD the cluster may lack", async () => {
  expect((await plan()).resources.filter((r) => r.type.startsWith("kubernetes:monitoring.coreos.com/"))).toEqual([]);
});
