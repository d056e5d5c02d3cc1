/**
 * `npm run verify -- --stack <name> | --outputs <file.json> [--images N] [--size 1mp|12mp] [--concurrency C]
 * [--rate R] [--timeout-seconds S] [--watch-interval-seconds S] [--cooldown-seconds S] [--keep] [--json]`
 *
 * After `pulumi up`: a smoke check of the deployed pipeline (one image per supported format, inverted pixels
 * and source metadata checked), then with --images a load test, and with a kubeconfig in the outputs a watch
 * of the worker HPA. Exits 0 only if every check passed; prints Markdown, or JSON with --json.
 * VERIFY_S3_ACCESS_KEY_ID / VERIFY_S3_SECRET_ACCESS_KEY replace the stack's S3 credentials (needed when the
 * pipeline's user is not the buckets' owner: its bucket policy lets it neither upload inputs nor delete).
 */
import { parseCommandLine } from "../common/command-line";
import { markdownReport } from "./verify/report";
import { kubeClientFrom } from "./verify/kube-api";
import type { ImageSize, LoadProgress } from "./verify/load";
import { readOutputsFile, readStackOutputs, withUploaderCredentials } from "./verify/outputs";
import { verify } from "./verify/run";
import { startWatch } from "./verify/watch";

const USAGE =
  "usage: npm run verify -- --stack <name> | --outputs <file.json> [--images N] [--size 1mp|12mp] [--concurrency C] [--rate R] " +
  "[--timeout-seconds S] [--watch-interval-seconds S] [--cooldown-seconds S] [--keep] [--json]";

export interface CliArgs {
  readonly stack?: string;
  readonly outputs?: string;
  readonly images: number;
  readonly size: ImageSize;
  readonly concurrency: number;
  readonly rate?: number;
  readonly timeoutSeconds: number;
  readonly watchIntervalSeconds: number;
  readonly cooldownSeconds: number;
  readonly keep: boolean;
  readonly json: boolean;
}

export function parseArgs(argv: readonly string[]): CliArgs {
  const text = { type: "string" } as const;
  const v = parseCommandLine(
    argv,
    {
      stack: text,
      outputs: text,
      images: text,
      size: text,
      concurrency: text,
      rate: text,
      "timeout-seconds": text,
      "watch-interval-seconds": text,
      "cooldown-seconds": text,
      keep: { type: "boolean" },
      json: { type: "boolean" },
    },
    USAGE,
  );
  const positive = (flag: keyof typeof v, fallback: number, integer: boolean): number => {
    const raw = v[flag];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (typeof raw !== "string" || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
      throw new Error(`--${flag} must be a positive ${integer ? "integer" : "number"}, got '${String(raw)}'`);
    return n;
  };
  if (v.size !== undefined && v.size !== "1mp" && v.size !== "12mp") throw new Error(`--size must be 1mp or 12mp, got '${v.size}'`);
  if ((v.stack === undefined) === (v.outputs === undefined)) throw new Error(`give exactly one of --stack and --outputs; ${USAGE}`);
  return {
    stack: v.stack,
    outputs: v.outputs,
    images: positive("images", 0, true),
    size: (v.size ?? "1mp") as ImageSize,
    concurrency: positive("concurrency", 8, true),
    rate: v.rate === undefined ? undefined : positive("rate", 0, false),
    timeoutSeconds: positive("timeout-seconds", 120, false),
    watchIntervalSeconds: positive("watch-interval-seconds", 5, false),
    cooldownSeconds: positive("cooldown-seconds", 420, false),
    keep: v.keep === true,
    json: v.json === true,
  };
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const target = withUploaderCredentials(args.outputs ? readOutputsFile(args.outputs) : await readStackOutputs(args.stack!), process.env);
  let progress: LoadProgress | undefined;
  const tty = process.stderr.isTTY;
  const report = await verify(target, {
    images: args.images,
    size: args.size,
    concurrency: args.concurrency,
    rate: args.rate,
    keep: args.keep,
    timeoutMs: args.timeoutSeconds * 1000,
    onProgress: (p) => {
      progress = p;
      const line = `load: ${(p.elapsedMs / 1000).toFixed(0)} s, uploaded ${p.uploaded}/${p.total}, done ${p.done}`;
      process.stderr.write(tty ? `\r${line}   ` : `${line}\n`);
    },
    watch:
      target.kubeconfig && target.kubernetesNamespace && target.workerAutoscaler
        ? async () =>
            startWatch({
              client: kubeClientFrom(target.kubeconfig!),
              namespace: target.kubernetesNamespace!,
              autoscaler: target.workerAutoscaler!,
              intervalMs: args.watchIntervalSeconds * 1000,
              cooldownMs: args.cooldownSeconds * 1000,
              loadState: () => ({ uploaded: progress?.uploaded ?? 0, done: progress?.done ?? 0 }),
            })
        : undefined,
  });
  if (tty && args.images > 0) process.stderr.write("\n");
  process.stdout.write(args.json ? `${JSON.stringify(report, null, 2)}\n` : markdownReport(report));
  return report.ok ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`verify failed: ${(err as Error).message}\n`);
      process.exit(2);
    },
  );
}
