/**
 * `npm run local`: the whole pipeline on this machine (PostgreSQL, S3 server, webhook, workers),
 * with samples/ uploaded. Prints `READY {json}` with the endpoints and serves until interrupted; the JSON has the
 * keys of the stack's outputs that `npm run verify -- --outputs <file>` reads (s3Endpoint, buckets, credentials).
 * `npm run local -- --once`: processes the samples, prints a summary table and exits 0 only if every
 * sample was processed and logged. `--workers N` sets the number of worker processes (default 2).
 * `--image <ref>` runs the webhook and the workers from the worker image (built by `npm run image`) with podman,
 * on the host network, instead of as Node processes; PostgreSQL and the S3 server stay local processes.
 * Children are supervised and restarted after a crash; none outlives this process, and its temporary
 * directory is removed on every exit path (worker/local/supervisor.ts).
 */
import fs from "node:fs";
import path from "node:path";
import { localStackOutputs, startLocalPipeline, waitForEvents, type EventRow } from "../worker/local/pipeline";
import { Supervisor } from "../worker/local/supervisor";
import { Podman } from "./image/podman";
import { parseCommandLine } from "../common/command-line";

const IMAGE_TYPES: Readonly<Record<string, string>> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".webp": "image/webp",
  ".tif": "image/tiff",
  ".tiff": "image/tiff",
  ".gif": "image/gif",
};

interface Args {
  readonly once: boolean;
  readonly workers: number;
  readonly samplesDir: string;
  readonly timeoutMs: number;
  readonly image?: string;
}

const USAGE = "usage: npm run local -- [--once] [--workers N] [--samples DIR] [--timeout-seconds S] [--image REF]";

function parseArgs(argv: readonly string[]): Args {
  const v = parseCommandLine(
    argv,
    {
      once: { type: "boolean" },
      workers: { type: "string" },
      samples: { type: "string" },
      "timeout-seconds": { type: "string" },
      image: { type: "string" },
    },
    USAGE,
  );
  const workers = v.workers === undefined ? 2 : Number(v.workers);
  const timeoutMs = v["timeout-seconds"] === undefined ? 120_000 : Number(v["timeout-seconds"]) * 1000;
  if (!Number.isInteger(workers) || workers < 1) throw new Error("--workers must be a positive integer");
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new Error("--timeout-seconds must be a positive number");
  if (v.image !== undefined && v.image === "")
    throw new Error("--image needs an image reference, e.g. --image localhost/image-pipeline-worker:local (npm run image builds it)");
  return {
    once: v.once === true,
    workers,
    samplesDir: v.samples === undefined ? path.resolve(__dirname, "..", "samples") : path.resolve(v.samples),
    timeoutMs,
    image: v.image,
  };
}

function table(rows: readonly Record<string, string>[]): string {
  const cols = Object.keys(rows[0] ?? {});
  const width = (c: string): number => Math.max(c.length, ...rows.map((r) => r[c].length));
  const line = (r: Record<string, string>): string => cols.map((c) => r[c].padEnd(width(c))).join("  ");
  return [line(Object.fromEntries(cols.map((c) => [c, c]))), ...rows.map(line)].join("\n");
}

function summarise(keys: readonly string[], rows: readonly EventRow[]): { text: string; ok: boolean } {
  const byKey = new Map(rows.map((r) => [r.input_key, r]));
  const lines = keys.map((key) => {
    const r = byKey.get(key);
    const ms = r ? (r.download_ms ?? 0) + (r.transform_ms ?? 0) + (r.upload_ms ?? 0) : 0;
    return {
      key,
      format: r?.format ?? "-",
      "in bytes": r?.input_bytes ?? "-",
      "out bytes": r?.output_bytes ?? "-",
      pixels: r?.pixels ?? "-",
      "ms (dl+tx+ul)": r ? ms.toFixed(1) : "-",
      worker: r?.worker_id ?? "-",
      status: r
        ? r.status === "processed"
          ? "processed"
          : `${r.status}: ${r.error_code ?? ""} ${r.error ?? ""}`.trim()
        : "MISSING (not processed in time)",
    };
  });
  return { text: table(lines), ok: keys.every((k) => byKey.get(k)?.status === "processed") };
}

async function main(supervisor: Supervisor): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const files = fs
    .readdirSync(args.samplesDir)
    .filter((f) => IMAGE_TYPES[path.extname(f).toLowerCase()] !== undefined)
    .sort();
  if (files.length === 0) throw new Error(`no images in ${args.samplesDir}`);

  let image;
  if (args.image !== undefined) {
    const engine = Podman.setUp({ debianBases: false, log: (l) => supervisor.log(l) });
    if (!engine.imageExists(args.image))
      throw new Error(
        `image ${args.image} is not in ${engine.root}. Fix: npm run image (it prints the reference), then --image <that reference>`,
      );
    image = { engine, ref: args.image };
  }
  const pipeline = await startLocalPipeline({ workers: args.workers, image });
  supervisor.setStop(() => pipeline.stop());
  for (const f of files)
    await pipeline.upload(f, fs.readFileSync(path.join(args.samplesDir, f)), IMAGE_TYPES[path.extname(f).toLowerCase()]);
  const ready = {
    ...localStackOutputs(pipeline),
    rootDir: pipeline.rootDir,
    pids: pipeline.pids(),
    endpoints: [pipeline.databaseUrl, pipeline.s3.endpoint, pipeline.webhookUrl, ...pipeline.workers.map((w) => w.url)],
    samples: files,
  };
  supervisor.print(`READY ${JSON.stringify(ready)}\n`);

  if (args.once) {
    const rows = await Promise.race([
      waitForEvents(pipeline.db, pipeline.inputBucket, files, args.timeoutMs),
      supervisor.stopRequested.then(() => [] as EventRow[]),
    ]);
    const { text, ok } = summarise(files, rows);
    supervisor.print(`${text}\n${ok ? "all samples processed" : "NOT all samples were processed"}\n`);
    await supervisor.stop("done");
    return ok ? 0 : 1;
  }

  const reason = await supervisor.stopRequested;
  supervisor.log(`stopping (${reason})...`);
  await supervisor.stop(reason);
  return 0;
}

const supervisor = new Supervisor();
main(supervisor).then(
  (code) => process.exit(code),
  (err: unknown) => {
    supervisor.log(`local pipeline failed: ${(err as Error).message}`);
    supervisor.exitNow(1);
  },
);
