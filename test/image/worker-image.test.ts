/**
 * The worker image as built by `npm run image` (worker/Dockerfile on the stand-in base), run with podman: the
 * checks a cluster relies on (non-root, read-only root with only /tmp written, production dependencies only,
 * sharp working inside, each command serving its health endpoint, a clean SIGTERM within the grace period) and
 * that no build secret (npmrc, CA mount, .env) ended up in it. The image workflow runs the same checks on the
 * official base (IMAGE_PIPELINE_TEST_BASE): Node 26 and its packages are exercised only there
 * (docs/container-image.md).
 */
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { buildWorkerImage, BUILD_CA_PATH, BUILD_NPMRC_PATH, type BuiltImage } from "../../scripts/image/build-worker-image";
import { Podman } from "../../scripts/image/podman";
import { containerName, removeContainer } from "../../worker/local/container";
import { startLocalPipeline, waitForEvents, type LocalPipeline } from "../../worker/local/pipeline";
import { TEST_PIPELINE_ENV } from "../worker/helpers/pipeline";
import { describeWithPodman } from "../support/podman-tests";

const SAMPLES = path.resolve(__dirname, "..", "..", "samples");
const GRACE_SECONDS = Number(TEST_PIPELINE_ENV.SHUTDOWN_GRACE_SECONDS);

let podman: Podman;
let image: BuiltImage;

/** `podman run --rm` of a one-off command in the image, read-only with /tmp, as the image's user. */
function runInImage(args: string[], options: { entrypoint?: string; input?: Buffer; env?: Record<string, string> } = {}) {
  const env = Object.entries(options.env ?? {}).flatMap(([k, v]) => ["--env", `${k}=${v}`]);
  const r = spawnSync(
    "podman",
    [
      ...podman.globalArgs(),
      "run",
      "--rm",
      "-i",
      "--read-only",
      "--tmpfs",
      "/tmp",
      "--network",
      "host",
      ...env,
      ...(options.entrypoint ? ["--entrypoint", options.entrypoint] : []),
      image.tag,
      ...args,
    ],
    { env: podman.env(), input: options.input, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

describeWithPodman("worker image (podman, stand-in base)", () => {
  beforeAll(async () => {
    // The image workflow sets IMAGE_PIPELINE_TEST_BASE to the official base (worker/Dockerfile's NODE_IMAGE).
    const base = process.env.IMAGE_PIPELINE_TEST_BASE || undefined;
    podman = Podman.setUp({ debianBases: base === undefined });
    image = await buildWorkerImage(podman, { base, log: (l) => void process.stderr.write(`[image] ${l}\n`) });
  }, 900_000);

  test("runs as the non-root user 1000:1000", () => {
    expect(podman.ok(["image", "inspect", "--format", "{{.Config.User}}", image.tag]).trim()).toBe("1000:1000");
    const id = runInImage(["-u"], { entrypoint: "id" });
    expect(id.stdout.toString().trim()).toBe("1000");
  });

  test("holds production dependencies only: no jest, TypeScript or ts-node, no sources or tests", () => {
    const script = [
      "const fs = require('fs');",
      "const resolvable = (m) => { try { require.resolve(m, { paths: ['/app'] }); return true; } catch { return false; } };",
      "console.log(JSON.stringify({",
      "  dev: ['jest', 'typescript', 'ts-node', '@types/node', 'ts-jest', 'eslint'].filter(resolvable),",
      "  runtime: ['sharp', 'pg', 'pino', 'prom-client', '@aws-sdk/client-s3'].filter(resolvable),",
      "  app: fs.readdirSync('/app').sort(),",
      "}));",
    ].join("\n");
    const r = runInImage(["-e", script], { entrypoint: "node" });
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout.toString())).toEqual({
      dev: [],
      runtime: ["sharp", "pg", "pino", "prom-client", "@aws-sdk/client-s3"],
      app: ["dist", "node_modules", "package.json"],
    });
  });

  test("contains no build secret: no npmrc, no CA mount, no .env anywhere, nothing of them in its configuration", () => {
    const found = runInImage(
      [
        "-c",
        `find / -xdev \\( -name .npmrc -o -name .env -o -name '.env.*' -o -path ${BUILD_NPMRC_PATH} -o -path '${path.dirname(BUILD_CA_PATH)}*' \\) -print 2>/dev/null; true`,
      ],
      { entrypoint: "sh" },
    );
    expect(found.stdout.toString().trim()).toBe("");
    const config = podman.ok(["image", "inspect", "--format", "{{json .Config}}", image.tag]);
    expect(config).not.toMatch(/npmrc|cafile|ca-certificates\.crt|NPM_CONFIG|_authToken/i);
    const history = podman.ok(["history", "--no-trunc", "--format", "{{.CreatedBy}}", image.tag]);
    expect(history).not.toMatch(/_authToken|BEGIN CERTIFICATE/);
  });

  test("sharp loads and inverts an image inside the read-only container, with the worker's own transform", async () => {
    const input = fs.readFileSync(path.join(SAMPLES, "gradient.png"));
    const script = [
      "const { invertImage } = require('/app/dist/worker/src/transform.js');",
      "const chunks = []; process.stdin.on('data', (c) => chunks.push(c));",
      "process.stdin.on('end', async () => {",
      "  const r = await invertImage(Buffer.concat(chunks), { limitInputPixels: 1e8, timeoutMs: 30000 });",
      "  process.stdout.write(r.data);",
      "});",
    ].join("\n");
    const r = runInImage(["-e", script], { entrypoint: "node", input });
    expect(r.stderr).toBe("");
    const [inPixels, outPixels] = await Promise.all(
      [input, r.stdout].map((b) => sharp(b).removeAlpha().raw().toBuffer({ resolveWithObject: true })),
    );
    expect(outPixels.info).toMatchObject({ width: inPixels.info.width, height: inPixels.info.height });
    for (let i = 0; i < inPixels.data.length; i += 97) expect(outPixels.data[i]).toBe(255 - inPixels.data[i]);
  });

  test("without configuration a service exits 2 and names the missing keys", () => {
    const r = runInImage(["worker"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/DATABASE_URL is required for 'worker'/);
  });

  describe("against PostgreSQL and the S3 server", () => {
    let pipeline: LocalPipeline;

    beforeAll(async () => {
      pipeline = await startLocalPipeline({ workers: 1, env: TEST_PIPELINE_ENV, image: { engine: podman, ref: image.tag } });
    }, 180_000);

    afterAll(async () => {
      await pipeline?.stop();
    }, 120_000);

    test("migrate applies the schema (already current) and exits 0 in the read-only container", () => {
      const r = runInImage(["migrate"], { env: { DATABASE_URL: pipeline.databaseUrl } });
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
      expect(r.stdout.toString()).toMatch(/schema up to date/);
    });

    test("the webhook and the worker, each in its read-only container, answer their health endpoints and process a sample", async () => {
      for (const service of [pipeline.webhook, ...pipeline.workers]) {
        expect(service.container).toBe(containerName(service.name));
        expect(podman.ok(["inspect", "--format", "{{.HostConfig.ReadonlyRootfs}} {{.Config.User}}", service.container!]).trim()).toBe(
          "true 1000:1000",
        );
        for (const endpoint of ["healthz", "readyz"]) {
          const res = await fetch(`${service.url}/${endpoint}`);
          expect({ service: service.name, endpoint, status: res.status }).toEqual({ service: service.name, endpoint, status: 200 });
        }
      }
      await pipeline.upload("photo.jpg", fs.readFileSync(path.join(SAMPLES, "photo.jpg")), "image/jpeg");
      const rows = await waitForEvents(pipeline.db, pipeline.inputBucket, ["photo.jpg"], 60_000);
      expect(rows.map((r) => [r.input_key, r.status, r.worker_id])).toEqual([["photo.jpg", "processed", pipeline.workers[0].workerId]]);
    });

    test("a worker started with a writable root writes nothing outside /tmp while it processes an image", async () => {
      const name = containerName("diff-worker");
      const port = 20000 + (process.pid % 20000);
      const env = {
        DATABASE_URL: pipeline.databaseUrl,
        S3_ENDPOINT: pipeline.s3.endpoint,
        S3_REGION: pipeline.s3.region,
        S3_ACCESS_KEY_ID: pipeline.s3.accessKeyId,
        S3_SECRET_ACCESS_KEY: pipeline.s3.secretAccessKey,
        S3_FORCE_PATH_STYLE: "true",
        INPUT_BUCKET: pipeline.inputBucket,
        OUTPUT_BUCKET: pipeline.outputBucket,
        WORKER_ID: "diff-worker",
        PORT: String(port),
        ...TEST_PIPELINE_ENV,
      };
      try {
        podman.ok([
          "run",
          "--detach",
          "--name",
          name,
          "--network",
          "host",
          "--tmpfs",
          "/tmp",
          ...Object.entries(env).flatMap(([k, v]) => ["--env", `${k}=${v}`]),
          image.tag,
          "worker",
        ]);
        const deadline = Date.now() + 60_000;
        for (;;) {
          const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
            (r) => r.status === 200,
            () => false,
          );
          if (ok) break;
          if (Date.now() > deadline) throw new Error(`diff worker not ready:\n${podman.run(["logs", name]).stderr}`);
          await new Promise((r) => setTimeout(r, 200));
        }
        // Only this worker takes jobs now.
        await pipeline.workers[0].stop("SIGTERM");
        const body = fs.readFileSync(path.join(SAMPLES, "scan.tiff"));
        await pipeline.s3Client.send(new PutObjectCommand({ Bucket: pipeline.inputBucket, Key: "scan.tiff", Body: body }));
        const rows = await waitForEvents(pipeline.db, pipeline.inputBucket, ["scan.tiff"], 60_000);
        expect(rows.map((r) => [r.status, r.worker_id])).toEqual([["processed", "diff-worker"]]);
        // SIGTERM (podman stop), SIGKILL only after the grace period: the worker drains and exits 0 before that.
        const stopStarted = Date.now();
        podman.ok(["stop", "--time", String(GRACE_SECONDS + 5), name]);
        expect((Date.now() - stopStarted) / 1000).toBeLessThan(GRACE_SECONDS + 5);
        expect(podman.ok(["inspect", "--format", "{{.State.ExitCode}}", name]).trim()).toBe("0");
        const changes = podman.ok(["diff", "--format", "json", name]).trim();
        const parsed = JSON.parse(changes || "{}") as Record<string, string[] | undefined>;
        const paths = [...(parsed.changed ?? []), ...(parsed.added ?? []), ...(parsed.deleted ?? [])];
        // The engine itself mounts /etc/hosts, /etc/resolv.conf and /etc/hostname, and the tmpfs on /tmp.
        const engineOwned = new Set(["/etc", "/etc/hosts", "/etc/resolv.conf", "/etc/hostname", "/run", "/run/.containerenv", "/tmp"]);
        expect(paths.filter((p) => !engineOwned.has(p) && !p.startsWith("/tmp/"))).toEqual([]);
      } finally {
        removeContainer(podman, name);
      }
    });

    test("SIGTERM stops the webhook cleanly (exit 0) well within the grace period", async () => {
      const started = Date.now();
      const code = await pipeline.webhook.stop("SIGTERM", (GRACE_SECONDS + 10) * 1000);
      const seconds = (Date.now() - started) / 1000;
      expect(code).toBe(0);
      expect(seconds).toBeLessThan(GRACE_SECONDS + 5);
      expect(fs.readFileSync(path.join(pipeline.logDir, "webhook.log"), "utf8")).toMatch(/"msg":"shutting down"/);
      expect(podman.run(["container", "exists", pipeline.webhook.container!]).status).not.toBe(0);
    });
  });
});
