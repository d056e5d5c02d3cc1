/** The Markdown summary of a verify run (for a pull-request comment or a run log). */
import type { VerifyReport } from "./run";
import type { WatchSample } from "./watch";

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const esc = (c: string): string => c.replace(/\|/g, "\\|");
  return [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n");
}

const ms = (v: number | undefined): string => (v === undefined ? "-" : `${Math.round(v)} ms`);

/** The scaling timeline: one row per sample of the autoscaler, next to the load. */
export function timelineTable(samples: readonly WatchSample[], marks: Readonly<Record<string, number>>): string {
  const start = marks["load-start"] ?? 0;
  const end = marks["load-end"];
  return markdownTable(
    ["t", "phase", "uploaded", "done", "CPU / target", "replicas (current → desired)", "pods ready/total"],
    samples.map((s) => [
      `${((s.atMs - start) / 1000).toFixed(0)} s`,
      s.atMs < start ? "before" : end === undefined || s.atMs <= end ? "load" : "after",
      String(s.load?.uploaded ?? "-"),
      String(s.load?.done ?? "-"),
      s.error ? `error: ${s.error}` : `${s.cpuPercent ?? "?"}% / ${s.cpuTargetPercent ?? "?"}%`,
      s.currentReplicas === undefined ? "-" : `${s.currentReplicas} → ${s.desiredReplicas}`,
      `${s.podsReady}/${s.podsTotal}`,
    ]),
  );
}

export function markdownReport(r: VerifyReport): string {
  const parts: string[] = [];
  parts.push(`## verify: ${r.ok ? "PASSED" : "FAILED"}`);
  parts.push(
    `Target ${r.target.s3Endpoint}, ${r.target.inputBucket} → ${r.target.outputBucket}, prefix \`${r.prefix}\` (${r.cleanedUp ? "removed" : "kept"}).`,
  );
  parts.push("### Smoke check");
  parts.push(
    markdownTable(
      ["input", "result", "PUT→output", "reason"],
      r.smoke.map((s) => [s.key, s.ok ? "ok" : "FAILED", ms(s.latencyMs), s.reason ?? ""]),
    ),
  );
  if (r.load) {
    const l = r.load;
    parts.push("### Load");
    parts.push(
      markdownTable(
        ["images", "size", "input bytes", "completed", "throughput", "p50", "p95", "p99", "max", "missing"],
        [
          [
            String(l.images),
            l.size,
            String(l.inputBytes),
            `${l.completed}/${l.uploaded}`,
            `${l.throughputPerSecond.toFixed(2)} /s over ${l.wallSeconds.toFixed(1)} s`,
            ms(l.latencyMs?.p50),
            ms(l.latencyMs?.p95),
            ms(l.latencyMs?.p99),
            ms(l.latencyMs?.max),
            String(l.missing.length),
          ],
        ],
      ),
    );
    parts.push(`Latency is PUT response → output listed, sampled every ${l.pollMs} ms.`);
  }
  if (r.watch) {
    const w = r.watch;
    parts.push(`### Autoscaler ${w.autoscaler}`);
    parts.push(
      markdownTable(
        ["question", "answer", "evidence"],
        w.verdict.map((v) => [v.question, v.answer, v.evidence]),
      ),
    );
    parts.push(timelineTable(w.samples, w.marks));
  }
  if (r.failures.length > 0) {
    parts.push("### Failures");
    parts.push(
      markdownTable(
        ["key", "reason"],
        r.failures.map((f) => [f.key, f.reason]),
      ),
    );
  }
  return `${parts.join("\n\n")}\n`;
}
