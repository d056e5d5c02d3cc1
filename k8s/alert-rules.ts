/**
 * Prometheus alert rules for the pipeline, as a prometheus-operator PrometheusRule. Created only when the
 * cluster has the monitoring.coreos.com CRDs (a stack setting): applying a custom resource whose CRD is
 * missing fails the deployment. Every metric the rules use is served by the webhook or the worker
 * (worker/src/metrics.ts, worker/src/http-server.ts); a test checks each one exists.
 */
import { pipelineLabels } from "./labels";
import type { AlertRulesSettings, PipelineWorkloadSettings } from "./settings";

export interface PrometheusRuleObject {
  readonly apiVersion: "monitoring.coreos.com/v1";
  readonly kind: "PrometheusRule";
  readonly metadata: { readonly name: string; readonly namespace: string; readonly labels: Record<string, string> };
  readonly spec: { readonly groups: readonly RuleGroup[] };
}

export interface RuleGroup {
  readonly name: string;
  readonly rules: readonly AlertRule[];
}

export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for: string;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

export interface AlertRuleSettings extends AlertRulesSettings {
  readonly namespace: string;
  readonly instance: string;
}

/** The workload's PrometheusRule; only for settings that ask for alert rules. */
export function buildPipelineAlertRules(s: PipelineWorkloadSettings): PrometheusRuleObject {
  if (!s.alertRules) throw new Error("buildPipelineAlertRules: the settings ask for no alert rules (alertRules is off)");
  return buildAlertRules({ namespace: s.namespace, instance: s.instance, ...s.alertRules });
}

export function buildAlertRules(s: AlertRuleSettings): PrometheusRuleObject {
  const ns = `namespace="${s.namespace}"`;
  const notify = `${ns}, route="POST /notify"`;
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: { name: `${s.instance}-alerts`, namespace: s.namespace, labels: { ...pipelineLabels(s.instance), ...s.ruleLabels } },
    spec: {
      groups: [
        {
          name: `${s.instance}.rules`,
          rules: [
            {
              alert: "ImagePipelineDeadLetters",
              // Every replica reports the same database counts; max keeps one series per reason.
              expr: `max by (namespace, reason) (image_pipeline_dead_letters{${ns}}) > 0`,
              for: "1m",
              labels: { severity: "warning" },
              annotations: {
                summary: "Dead-lettered jobs ({{ $labels.reason }}): {{ $value }}",
                description:
                  "Jobs in {{ $labels.namespace }} are dead-lettered with reason {{ $labels.reason }}. permanent: the input cannot be processed; retry_budget: transient failures outlasted RETRY_BUDGET_SECONDS (the reconciler re-queues them); strikes: the worker died or timed out on the input MAX_ATTEMPTS times. List them with `main.js dead-letters`, re-queue with `main.js redrive`.",
              },
            },
            {
              alert: "ImagePipelineOldestPendingJob",
              expr: `max by (namespace) (image_pipeline_queue_oldest_pending_seconds{${ns}}) > ${s.oldestPendingSeconds}`,
              for: "5m",
              labels: { severity: "warning" },
              annotations: {
                summary: "The oldest pending job has waited {{ $value | humanizeDuration }}",
                description:
                  "Jobs in {{ $labels.namespace }} are not getting done: the workers are down or saturated, or S3 or the database keeps failing (jobs back off and retry).",
              },
            },
            {
              alert: "ImagePipelineWebhookErrors",
              expr:
                `sum by (namespace) (rate(image_pipeline_http_responses_total{${notify}, code=~"5.."}[5m]))` +
                ` / sum by (namespace) (rate(image_pipeline_http_responses_total{${notify}}[5m])) > ${s.webhookErrorRatio}`,
              for: "10m",
              labels: { severity: "warning" },
              annotations: {
                summary: "{{ $value | humanizePercentage }} of notifications answered with 5xx",
                description:
                  "The webhook in {{ $labels.namespace }} fails notifications: 503 while the database (or its schema) is unavailable, 500 on a bug. A persistent topic retries them; a synchronous one loses them to the reconciler.",
              },
            },
          ],
        },
      ],
    },
  };
}

/** The metric names an expression reads (image_pipeline_*), for the check that each one exists. */
export function metricsUsed(rule: PrometheusRuleObject): string[] {
  const names = new Set<string>();
  for (const group of rule.spec.groups)
    for (const r of group.rules) for (const m of r.expr.matchAll(/\bimage_pipeline_[a-z_]+/g)) names.add(m[0]);
  return [...names].sort();
}
