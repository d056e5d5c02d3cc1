/** The HPA controller model against the rules kube-controller-manager documents for autoscaling/v2. */
import { AutoscalerController, metricRecommendation, type AutoscalerSpec } from "../../scripts/capacity/hpa-controller";
import { workerBehavior } from "../../scripts/capacity/scenarios";

const ready = (ratio: number, readyPods: number, unreadyPods = 0) => ({ ratio, readyPods, unreadyPods });

describe("metric recommendation", () => {
  test("desired = ceil(current × metric / target)", () => {
    expect(metricRecommendation(1, ready(2, 1))).toBe(2);
    expect(metricRecommendation(3, ready(1.5, 3))).toBe(5);
    expect(metricRecommendation(4, ready(0.3, 4))).toBe(2);
  });

  test("no change within the 10 % tolerance", () => {
    expect(metricRecommendation(4, ready(1.09, 4))).toBe(4);
    expect(metricRecommendation(4, ready(0.91, 4))).toBe(4);
    expect(metricRecommendation(4, ready(1.11, 4))).toBe(5);
  });

  test("pods still starting count as idle for a scale-up, and a reversal means no change", () => {
    // 2 ready pods at 1.5× with 2 starting: (1.5 × 2) / 4 = 0.75 → the scale-up is dropped, not turned into a scale-down.
    expect(metricRecommendation(4, ready(1.5, 2, 2))).toBe(4);
    // 3 ready at 2× with 1 starting: 1.5 over 4 pods → 6.
    expect(metricRecommendation(4, ready(2, 3, 1))).toBe(6);
  });
});

describe("behavior", () => {
  const spec: AutoscalerSpec = workerBehavior(1, 10, 300);

  test("scale-up is limited to max(+2 pods, +100 %) per 30 s, counting what was already added in the period", () => {
    const c = new AutoscalerController(spec);
    expect(c.decide(15, 1, 10)).toBe(3); // +2 pods beats +100 % of 1
    expect(c.decide(30, 3, 10)).toBe(3); // the period that started at 1 replica is used up
    expect(c.decide(45, 3, 10)).toBe(6); // a new period from 3: +100 %
    expect(c.decide(60, 6, 20)).toBe(6);
    expect(c.decide(75, 6, 20)).toBe(10); // capped by maxReplicas
  });

  test("scale-down waits for the stabilization window, then removes one pod a minute", () => {
    const c = new AutoscalerController(spec);
    expect(c.decide(15, 4, 4)).toBe(4);
    let replicas = 4;
    const timeline: number[] = [];
    for (let t = 30; t <= 600; t += 15) {
      replicas = c.decide(t, replicas, 1);
      timeline.push(replicas);
    }
    // The recommendation of 4 at t=15 holds the count until it leaves the 300 s window.
    expect(timeline.slice(0, 18).every((r) => r === 4)).toBe(true);
    expect(timeline[19]).toBe(3);
    const firstAt3 = timeline.indexOf(3);
    expect(timeline.indexOf(2) - firstAt3).toBe(4); // 60 s later at a 15 s sync
    expect(timeline[timeline.length - 1]).toBe(1);
  });

  test("minReplicas is a floor whatever the metric says", () => {
    const c = new AutoscalerController(workerBehavior(2, 6, 0));
    expect(c.decide(15, 2, 1)).toBe(2);
  });
});
