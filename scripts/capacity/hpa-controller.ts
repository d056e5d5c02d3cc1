/**
 * The HorizontalPodAutoscaler controller's replica decision, as kube-controller-manager makes it
 * (pkg/controller/podautoscaler/horizontal.go, autoscaling/v2 with `behavior`), so that a choice of CPU request,
 * target and scaling policies can be judged against measured per-image costs before it meets a cluster.
 *
 * Modelled, with the controller's defaults: one decision per sync period (15 s); desired = ceil(current × ratio)
 * unless the ratio is within the tolerance (0.1) of 1; for a scale-up, pods that are not ready yet count as using
 * nothing, and the scale-up is dropped if that reverses it; stabilization (the highest recommendation of the
 * scale-down window, the lowest of the scale-up window); rate policies over the replicas added or removed within
 * each policy's period; min and max replicas. Not modelled: the 5-minute CPU initialization period (metrics of a
 * started pod count as soon as it is ready) and missing metrics of ready pods.
 */

export interface ScalingPolicy {
  readonly type: "Pods" | "Percent";
  readonly value: number;
  readonly periodSeconds: number;
}

export interface ScalingRules {
  readonly stabilizationWindowSeconds: number;
  readonly selectPolicy: "Max" | "Min" | "Disabled";
  readonly policies: readonly ScalingPolicy[];
}

export interface AutoscalerSpec {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly scaleUp: ScalingRules;
  readonly scaleDown: ScalingRules;
}

/** kube-controller-manager's defaults (--horizontal-pod-autoscaler-sync-period, --horizontal-pod-autoscaler-tolerance). */
export const SYNC_PERIOD_SECONDS = 15;
export const TOLERANCE = 0.1;

/** What the metrics pipeline reports at one sync: usage per ready pod against the target, and pods still starting. */
export interface MetricSample {
  /** Metric value over target for the ready pods (e.g. 140 % utilisation against a 70 % target is 2). */
  readonly ratio: number;
  readonly readyPods: number;
  readonly unreadyPods: number;
}

interface Timed {
  readonly atSeconds: number;
  readonly value: number;
}

/** The replica count the metric alone asks for, before stabilization and rate limits. */
export function metricRecommendation(current: number, m: MetricSample): number {
  if (m.readyPods === 0) return current;
  if (Math.abs(m.ratio - 1) <= TOLERANCE) return current;
  let ratio = m.ratio;
  if (ratio > 1 && m.unreadyPods > 0) {
    // Pods that are still starting report nothing; for a scale-up the controller assumes they use nothing.
    ratio = (m.ratio * m.readyPods) / (m.readyPods + m.unreadyPods);
    if (ratio <= 1 || Math.abs(ratio - 1) <= TOLERANCE) return current;
  }
  return Math.ceil(ratio * (m.readyPods + m.unreadyPods));
}

function scaleUpLimit(current: number, added: (periodSeconds: number) => number, rules: ScalingRules): number {
  if (rules.selectPolicy === "Disabled") return current;
  const proposals = rules.policies.map((p) => {
    const periodStart = current - added(p.periodSeconds);
    return p.type === "Pods" ? periodStart + p.value : Math.ceil(periodStart * (1 + p.value / 100));
  });
  return rules.selectPolicy === "Min" ? Math.min(...proposals) : Math.max(...proposals);
}

function scaleDownLimit(current: number, removed: (periodSeconds: number) => number, rules: ScalingRules): number {
  if (rules.selectPolicy === "Disabled") return current;
  const proposals = rules.policies.map((p) => {
    const periodStart = current + removed(p.periodSeconds);
    return p.type === "Pods" ? periodStart - p.value : Math.floor(periodStart * (1 - p.value / 100));
  });
  // "Max" selects the policy that allows the biggest change, which for a scale-down is the lowest count.
  return rules.selectPolicy === "Min" ? Math.max(...proposals) : Math.min(...proposals);
}

/** One HPA object's controller state: its past recommendations and scale events, which the behavior rules read. */
export class AutoscalerController {
  private readonly recommendations: Timed[] = [];
  private readonly scaleEvents: Timed[] = [];

  constructor(private readonly spec: AutoscalerSpec) {}

  /** The replica count the controller sets at this sync, given the current count and what the metric says. */
  decide(atSeconds: number, current: number, metricDesired: number): number {
    const stabilized = this.stabilize(atSeconds, current, metricDesired);
    const desired = this.limitRate(atSeconds, current, stabilized);
    if (desired !== current) this.scaleEvents.push({ atSeconds, value: desired - current });
    return desired;
  }

  private stabilize(atSeconds: number, current: number, metricDesired: number): number {
    let up = metricDesired;
    let down = metricDesired;
    for (const r of this.recommendations) {
      if (r.atSeconds > atSeconds - this.spec.scaleUp.stabilizationWindowSeconds) up = Math.min(up, r.value);
      if (r.atSeconds > atSeconds - this.spec.scaleDown.stabilizationWindowSeconds) down = Math.max(down, r.value);
    }
    this.recommendations.push({ atSeconds, value: metricDesired });
    const horizon = Math.max(this.spec.scaleUp.stabilizationWindowSeconds, this.spec.scaleDown.stabilizationWindowSeconds);
    while (this.recommendations.length > 0 && this.recommendations[0].atSeconds <= atSeconds - horizon - SYNC_PERIOD_SECONDS)
      this.recommendations.shift();
    let recommendation = current;
    if (recommendation < up) recommendation = up;
    if (recommendation > down) recommendation = down;
    return recommendation;
  }

  private changedWithin(atSeconds: number, periodSeconds: number, sign: 1 | -1): number {
    return this.scaleEvents
      .filter((e) => e.atSeconds > atSeconds - periodSeconds && Math.sign(e.value) === sign)
      .reduce((sum, e) => sum + Math.abs(e.value), 0);
  }

  private limitRate(atSeconds: number, current: number, desired: number): number {
    const { minReplicas, maxReplicas, scaleUp, scaleDown } = this.spec;
    if (desired > current) {
      const limit = Math.max(
        current,
        scaleUpLimit(current, (p) => this.changedWithin(atSeconds, p, 1), scaleUp),
      );
      return Math.min(desired, limit, maxReplicas);
    }
    if (desired < current) {
      const limit = Math.min(
        current,
        scaleDownLimit(current, (p) => this.changedWithin(atSeconds, p, -1), scaleDown),
      );
      return Math.max(desired, limit, minReplicas);
    }
    return Math.min(Math.max(desired, minReplicas), maxReplicas);
  }
}
