/** The prod stack's offline plan: Trove instead of in-cluster PostgreSQL, 2 to 6 workers, the image of its own config. */
import { STAND_IN_WORKER_IMAGE } from "../../scripts/plan-stand-ins";
import { planOnce } from "../support/plan";
import { commonPlanTests } from "./support/planAssertions";

const plan = planOnce("prod");

describe("prod plan: workload", () => {
  commonPlanTests("prod", plan, { min: 2, max: 6 });

  test("prod runs the image of its own config (what promotion wrote; offline, the stand-in), read from no other stack", async () => {
    const p = await plan();
    expect(p.outputs.workerImage).toBe(STAND_IN_WORKER_IMAGE);
    expect(p.outputs.workerImageDigest).toBe(STAND_IN_WORKER_IMAGE.slice(STAND_IN_WORKER_IMAGE.indexOf("@") + 1));
    expect(p.resources.filter((r) => r.type === "pulumi:pulumi:StackReference")).toEqual([]);
  });
});
