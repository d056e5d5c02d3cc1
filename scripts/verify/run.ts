/** One verify run against a target: smoke check, optional load test and cluster watch, cleanup unless kept. */
import { randomBytes } from "node:crypto";
import { runLoad, type ImageSize, type LoadProgress, type LoadResult } from "./load";
import type { VerifyTarget } from "./outputs";
import { deletePrefix, s3ClientFor } from "./s3";
import { runSmoke, type SmokeOptions, type SmokeResult } from "./smoke";
import type { WatchReport, WatchSession } from "./watch";

export interface VerifyOptions {
  /** Load images; 0 runs the smoke check only. */
  readonly images: number;
  readonly size: ImageSize;
  readonly concurrency: number;
  readonly rate?: number;
  readonly keep: boolean;
  readonly timeoutMs: number;
  readonly pollMs?: number;
  /** Starts the cluster watch (when a kubeconfig is available); stopped after the load and its cool-down. */
  readonly watch?: () => Promise<WatchSession>;
  readonly onProgress?: (p: LoadProgress) => void;
  /** Test seam: runs between the outputs appearing and their check. */
  readonly beforeCheck?: SmokeOptions["beforeCheck"];
  /** Unique per run unless given. */
  readonly prefix?: string;
}

export interface VerifyFailure {
  readonly key: string;
  readonly reason: string;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly prefix: string;
  readonly target: { readonly s3Endpoint: string; readonly inputBucket: string; readonly outputBucket: string };
  readonly smoke: readonly SmokeResult[];
  readonly load?: LoadResult;
  readonly watch?: WatchReport;
  readonly failures: readonly VerifyFailure[];
  readonly cleanedUp: boolean;
  readonly cleanupError?: string;
}

export function runPrefix(now = new Date()): string {
  return `verify/${now.toISOString().replace(/[-:]/g, "").replace(/\..*/, "")}-${randomBytes(3).toString("hex")}/`;
}

export async function verify(target: VerifyTarget, o: VerifyOptions): Promise<VerifyReport> {
  const s3 = s3ClientFor(target);
  const prefix = o.prefix ?? runPrefix();
  const failures: VerifyFailure[] = [];
  let load: LoadResult | undefined;
  let watchReport: WatchReport | undefined;
  let smoke: SmokeResult[] = [];
  let cleanedUp = false;
  let cleanupError: string | undefined;
  try {
    smoke = await runSmoke(s3, target, { prefix, timeoutMs: o.timeoutMs, pollMs: o.pollMs, beforeCheck: o.beforeCheck });
    for (const r of smoke) if (!r.ok) failures.push({ key: r.key, reason: r.reason ?? "failed" });

    if (o.images > 0) {
      const watch = o.watch ? await o.watch() : undefined;
      try {
        watch?.mark("load-start");
        load = await runLoad(s3, target, { ...o, prefix, onProgress: o.onProgress });
        watch?.mark("load-end");
      } finally {
        watchReport = await watch?.finish();
      }
      for (const key of load.missing)
        failures.push({ key, reason: `no output within ${Math.round(o.timeoutMs / 1000)} s of the last upload` });
      for (const e of load.uploadErrors)
        failures.push({ key: e.slice(0, e.indexOf(":")), reason: `upload failed: ${e.slice(e.indexOf(":") + 2)}` });
      if (watchReport?.problem) failures.push({ key: "cluster-watch", reason: watchReport.problem });
    }
  } finally {
    if (!o.keep) {
      try {
        await deletePrefix(s3, target.inputBucket, prefix);
        await deletePrefix(s3, target.outputBucket, `${target.outputPrefix}${prefix}`);
        cleanedUp = true;
      } catch (err) {
        // Not a failure of the pipeline: credentials without delete rights (a non-owner pipeline user) end here.
        cleanupError = (err as Error).message;
      }
    }
    s3.destroy();
  }
  return {
    ok: failures.length === 0,
    prefix,
    target: { s3Endpoint: target.s3Endpoint, inputBucket: target.inputBucket, outputBucket: target.outputBucket },
    smoke,
    load,
    watch: watchReport,
    failures,
    cleanedUp,
    cleanupError,
  };
}
