/**
 * Builds worker/Dockerfile with podman from the repository root. The base is the NODE_IMAGE build argument:
 * the stand-in built from Debian's packages (default, no registry needed) or a given reference (the official
 * node image, digest-pinned, where a registry is reachable). The build's RUN steps trust the same CA bundle as
 * this machine's npm: the bundle and an npmrc naming it are mounted read-only for RUN steps only
 * (`podman build -v`), so neither is in any layer of the image.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ensureStandInNodeBase } from "./stand-in-node-base";
import { PodmanError, type Podman } from "./podman";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const DEFAULT_IMAGE_TAG = "localhost/image-pipeline-worker:local";
/** Where the build's RUN steps find the CA bundle and the npm configuration naming it (mounted, never copied). */
export const BUILD_CA_PATH = "/run/build-ca/ca-certificates.crt";
export const BUILD_NPMRC_PATH = "/usr/local/etc/npmrc";

export interface BuildOptions {
  /** The base image reference; default: the stand-in (built or cached). */
  readonly base?: string;
  readonly tag?: string;
  /** Ignore the layer cache. */
  readonly noCache?: boolean;
  readonly log?: (line: string) => void;
}

export interface BuiltImage {
  readonly tag: string;
  readonly base: string;
  readonly id: string;
  readonly digest: string;
  readonly sizeBytes: number;
  readonly seconds: number;
}

function npmConfig(key: string): string | undefined {
  const r = spawnSync("npm", ["config", "get", key], { encoding: "utf8", cwd: REPO_ROOT });
  const v = r.stdout?.trim();
  return r.status === 0 && v && v !== "undefined" && v !== "null" ? v : undefined;
}

/** The CA bundle this machine's npm trusts: npm's cafile, else NODE_EXTRA_CA_CERTS, else Debian's bundle. */
export function hostCaBundle(): string | undefined {
  for (const candidate of [npmConfig("cafile"), process.env.NODE_EXTRA_CA_CERTS, "/etc/ssl/certs/ca-certificates.crt"])
    if (candidate && fs.existsSync(candidate)) return candidate;
  return undefined;
}

/** The npmrc the build's RUN steps read: this machine's registry, and the mounted CA bundle when there is one. */
export function buildNpmrc(registry: string | undefined, withCa: boolean): string {
  return [
    ...(registry ? [`registry=${registry}`] : []),
    ...(withCa ? [`cafile=${BUILD_CA_PATH}`] : []),
    "audit=false",
    "fund=false",
    "",
  ].join("\n");
}

/**
 * A reference as Docker reads it, fully qualified: `node:26…` is `docker.io/library/node:26…`. podman would
 * otherwise consult the machine's unqualified-search registries (or refuse without a terminal to ask on).
 */
export function qualifiedImageRef(ref: string): string {
  const [first, ...rest] = ref.split("/");
  if (rest.length > 0 && (first.includes(".") || first.includes(":") || first === "localhost")) return ref;
  return rest.length === 0 ? `docker.io/library/${ref}` : `docker.io/${ref}`;
}

export async function buildWorkerImage(podman: Podman, options: BuildOptions = {}): Promise<BuiltImage> {
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const standIn = options.base === undefined;
  const base = options.base !== undefined ? qualifiedImageRef(options.base) : ensureStandInNodeBase(podman, log);
  const tag = options.tag ?? DEFAULT_IMAGE_TAG;
  const secrets = fs.mkdtempSync(path.join(os.tmpdir(), "image-pipeline-build-"));
  try {
    const ca = hostCaBundle();
    const npmrc = path.join(secrets, "npmrc");
    fs.writeFileSync(npmrc, buildNpmrc(npmConfig("registry"), ca !== undefined), { mode: 0o644 });
    const args = [
      "build",
      "--file",
      path.join(REPO_ROOT, "worker", "Dockerfile"),
      "--ignorefile",
      path.join(REPO_ROOT, "worker", "Dockerfile.dockerignore"),
      "--build-arg",
      `NODE_IMAGE=${base}`,
      // The stand-in exists only in local storage; a real base is pulled when missing.
      `--pull=${standIn ? "never" : "missing"}`,
      "--network",
      "host",
      "--volume",
      `${npmrc}:${BUILD_NPMRC_PATH}:ro`,
      ...(ca ? ["--volume", `${ca}:${BUILD_CA_PATH}:ro`] : []),
      ...(options.noCache ? ["--no-cache"] : []),
      "--tag",
      tag,
      REPO_ROOT,
    ];
    log(`podman build --build-arg NODE_IMAGE=${base} --tag ${tag}`);
    await podman.stream(args);
  } finally {
    fs.rmSync(secrets, { recursive: true, force: true });
  }
  const [id, digest, size] = podman.ok(["image", "inspect", "--format", "{{.Id}} {{.Digest}} {{.Size}}", tag]).trim().split(" ");
  if (!id || !digest || !Number(size)) throw new PodmanError(`podman image inspect ${tag}: unexpected output`);
  return { tag, base, id, digest, sizeBytes: Number(size), seconds: (Date.now() - started) / 1000 };
}
