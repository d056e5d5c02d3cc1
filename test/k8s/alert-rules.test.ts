/**
 * The PrometheusRule: its rule groups pass Prometheus' own checker (promtool, from Debian's prometheus
 * package), each alert fires on the series it is meant for and stays quiet otherwise (promtool's rule unit
 * tests), and every metric an expression reads is one the webhook or the worker really serves.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pino from "pino";
import { stringify } from "yaml";
import { buildAlertRules, metricsUsed, type AlertRuleSettings } from "../../k8s/alert-rules";
import { createServiceServer } from "../../worker/src/http-server";
import { createWebhookMetrics, createWorkerMetrics } from "../../worker/src/metrics";
import type { JobQueue, QueueStats } from "../../worker/src/queue";

const settings: AlertRuleSettings = {
  namespace: "image-pipeline",
  instance: "image-pipeline",
  ruleLabels: { release: "kube-prometheus-stack" },
  oldestPendingSeconds: 900,
  webhookErrorRatio: 0.05,
};
const rule = buildAlertRules(settings);

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "alert-rules-"));
  fs.writeFileSync(path.join(dir, "rules.yaml"), stringify({ groups: rule.spec.groups }));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function promtool(...args: string[]): { status: number | null; output: string } {
  const r = spawnSync("promtool", args, { cwd: dir, encoding: "utf8" });
  if (r.error) throw new Error(`promtool could not run (${r.error.message}); install Debian's prometheus package`);
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

it("is a PrometheusRule in the pipeline's namespace, with the labels a Prometheus ruleSelector may ask for", () => {
  expect(rule).toMatchObject({
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: { name: "image-pipeline-alerts", namespace: "image-pipeline", labels: { release: "kube-prometheus-stack" } },
  });
  expect(rule.spec.groups.flatMap((g) => g.rules.map((r) => r.alert))).toEqual([
    "ImagePipelineDeadLetters",
    "ImagePipelineOldestPendingJob",
    "ImagePipelineWebhookErrors",
  ]);
});

it("passes promtool check rules", () => {
  const r = promtool("check", "rules", "rules.yaml");
  expect(r.output).toContain("SUCCESS: 3 rules found");
  expect(r.status).toBe(0);
});

/** An alert's description as Prometheus renders it for the pipeline's namespace. */
const described = (i: number, reason?: string): string =>
  rule.spec.groups[0].rules[i].annotations.description
    .replace("{{ $labels.namespace }}", "image-pipeline")
    .replace("{{ $labels.reason }}", reason ?? "");

it("fires each alert on its series and not otherwise (promtool test rules)", () => {
  const ns = 'namespace="image-pipeline"';
  const tests = {
    rule_files: ["rules.yaml"],
    evaluation_interval: "1m",
    tests: [
      {
        interval: "1m",
        input_series: [
          // Two replicas report the same database counts.
          { series: `image_pipeline_dead_letters{${ns},reason="retry_budget",pod="w1"}`, values: "0 0 2x10" },
          { series: `image_pipeline_dead_letters{${ns},reason="retry_budget",pod="w2"}`, values: "0 0 2x10" },
          { series: `image_pipeline_dead_letters{${ns},reason="permanent",pod="w1"}`, values: "0x12" },
          { series: `image_pipeline_queue_oldest_pending_seconds{${ns},pod="w1"}`, values: "0 600+60x20" },
          {
            series: `image_pipeline_http_responses_total{${ns},route="POST /notify",code="200"}`,
            values: "0+100x30",
          },
          { series: `image_pipeline_http_responses_total{${ns},route="POST /notify",code="503"}`, values: "0+0x5 0+20x25" },
        ],
        alert_rule_test: [
          { eval_time: "1m", alertname: "ImagePipelineDeadLetters", exp_alerts: [] },
          {
            eval_time: "5m",
            alertname: "ImagePipelineDeadLetters",
            exp_alerts: [
              {
                exp_labels: { severity: "warning", namespace: "image-pipeline", reason: "retry_budget" },
                exp_annotations: {
                  summary: "Dead-lettered jobs (retry_budget): 2",
                  description: described(0, "retry_budget"),
                },
              },
            ],
          },
          { eval_time: "5m", alertname: "ImagePipelineOldestPendingJob", exp_alerts: [] },
          {
            eval_time: "20m",
            alertname: "ImagePipelineOldestPendingJob",
            exp_alerts: [
              {
                exp_labels: { severity: "warning", namespace: "image-pipeline" },
                exp_annotations: { summary: "The oldest pending job has waited 29m 0s", description: described(1) },
              },
            ],
          },
          { eval_time: "8m", alertname: "ImagePipelineWebhookErrors", exp_alerts: [] },
          {
            eval_time: "25m",
            alertname: "ImagePipelineWebhookErrors",
            exp_alerts: [
              {
                exp_labels: { severity: "warning", namespace: "image-pipeline" },
                exp_annotations: { summary: "16.67% of notifications answered with 5xx", description: described(2) },
              },
            ],
          },
        ],
      },
    ],
  };
  fs.writeFileSync(path.join(dir, "tests.yaml"), stringify(tests));
  const r = promtool("test", "rules", "tests.yaml");
  expect(r.output).toContain("SUCCESS");
  expect(r.status).toBe(0);
});

it("reads only metrics the webhook and the worker serve", async () => {
  const stats: QueueStats = {
    pending: 1,
    running: 0,
    done: 0,
    dead: 0,
    deadByReason: { permanent: 0, retry_budget: 0, strikes: 0 },
    oldestPendingSeconds: 3,
  };
  const worker = createWorkerMetrics({ stats: async () => stats } as unknown as JobQueue);
  const webhook = createWebhookMetrics();
  // The HTTP response counter belongs to the service server of each.
  for (const registry of [worker.registry, webhook.registry])
    createServiceServer({ port: 0, registry, logger: pino({ level: "silent" }), notReadyReason: async () => undefined });
  const served = `${await worker.registry.metrics()}\n${await webhook.registry.metrics()}`;
  const used = metricsUsed(rule);
  expect(used).toEqual([
    "image_pipeline_dead_letters",
    "image_pipeline_http_responses_total",
    "image_pipeline_queue_oldest_pending_seconds",
  ]);
  for (const name of used) expect(served).toMatch(new RegExp(`^# TYPE ${name} `, "m"));
});
