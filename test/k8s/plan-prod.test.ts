/** The prod stack's offline plan: Trove instead of in-cluster PostgreSQL, 2 to 6 workers, the image promoted from dev. */
import { MOCK_PROMOTED_IMAGE } from "../../scripts/plan";
import { planOnce } from "../support/plan";
import { commonPlanTests } from "./support/planAssertions";

const plan = planOnce("prod");

describe("prod plan: workload", () => {
  commonPlanTests("prod", plan, { min: 2, max: 6 });

  test("prod runs the image the dev stack exports (StackReference), not one of its own", async () => {
    const p = await plan();
    expect(p.outputs.workerImage).toBe(MOCK_PROMOTED_IMAGE);
    expect(p.outputs.workerImageDigest).toBe(`sha256:${"0".repeat(64)}`);
  });
});
