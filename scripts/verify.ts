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
  const a: { -readonly [K in keyof CliArgs]: CliArgs[K] } = {
    images: 0,
    size: "1mp",
    concurrency: 8,
    timeoutSeconds: 120,
    watchIntervalSeconds: 5,
    cooldownSeconds: 420,
    keep: false,
    json: false,
  };
  const value = (i: number, flag: string): string => {
    const v = argv[i];
    if (v === undefined || v.startsWith("--")) throw new Error(`${flag} needs a value; ${USAGE}`);
    return v;
  };
  const positive = (v: string, flag: string, integer: boolean): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
      throw new Error(`${flag} must be a positive ${integer ? "integer" : "number"}, got '${v}'`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    switch (flag) {
      case "--stack":
        a.stack = value(++i, flag);
        break;
      case "--outputs":
        a.outputs = value(++i, flag);
        break;
      case "--images":
        a.images = positive(value(++i, flag), flag, true);
        break;
      case "--size": {
        const v = value(++i, flag);
        if (v !== "1mp" && v !== "12mp") throw new Error(`--size must be 1mp or 12mp, got '${v}'`);
        a.size = v;
        break;
      }
      case "--concurrency":
        a.concurrency = positive(value(++i, flag), flag, true);
        break;
      case "--rate":
        a.rate = positive(value(++i, flag), flag, false);
        break;
      case "--timeout-seconds":
        a.timeoutSeconds = positive(value(++i, flag), flag, false);
        break;
      case "--watch-interval-seconds":
        a.watchIntervalSeconds = positive(value(++i, flag), flag, false);
        break;
      case "--cooldown-seconds":
        a.cooldownSeconds = positive(value(++i, flag), flag, false);
        break;
      case "--keep":
        a.keep = true;
        break;
      case "--json":
        a.json = true;
        break;
      default:
        throw new Error(`unknown argument '${flag}'; ${USAGE}`);
    }
  }
  if ((a.stack === undefined) === (a.outputs === undefined)) throw new Error(`give exactly one of --stack and --outputs; ${USAGE}`);
  return a;
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
