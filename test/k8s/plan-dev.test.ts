/** The dev stack's offline plan: the workload on the cluster (Chameleon, in-cluster PostgreSQL, 1 to 3 workers). */
import { planOnce } from "../support/plan";
import { commonPlanTests } from "./support/planAssertions";

const plan = planOnce("dev");

describe("dev plan: workload", () => {
  commonPlanTests("dev", plan, { min: 1, max: 3 });

  test("dev deploys the digest from its own config", async () => {
    expect((await plan()).outputs.workerImage).toBe(
      "ghcr.io/example-org/image-pipeline-worker:0.1.0@sha256:e0d0366a59c8a68bbcf62d8d574f27301590b0bdf76bb83f67627848b1fbe1fc",
    );
  });
});
