/**
 * `npm run image`: builds the worker image from worker/Dockerfile with podman (scripts/image/) and prints its
 * size and digest. Without --base it builds on the stand-in base made from Debian's packages (no registry
 * needed, cached between runs); `--base <ref>` builds on the given base, e.g. the official node image by digest
 * where a registry is reachable. Installs podman and runc (and mmdebstrap for the stand-in) when missing, as root.
 *   npm run image -- [--base <ref>] [--tag <name>] [--work-dir <dir>] [--no-cache]
 * The last line is `IMAGE {"tag","id","digest","sizeBytes","base"}` for scripts.
 */
import { parseCommandLine } from "../common/command-line";
import { buildWorkerImage, DEFAULT_IMAGE_TAG } from "./image/build-worker-image";
import { DEFAULT_PODMAN_DIR, Podman, PodmanError } from "./image/podman";

const USAGE = "usage: npm run image -- [--base <image ref>] [--tag <name>] [--work-dir <dir>] [--no-cache]";

interface Args {
  readonly base?: string;
  readonly tag: string;
  readonly workDir: string;
  readonly noCache: boolean;
}

export function parseImageArgs(argv: readonly string[]): Args {
  const text = { type: "string" } as const;
  const v = parseCommandLine(argv, { base: text, tag: text, "work-dir": text, "no-cache": { type: "boolean" } }, USAGE);
  for (const flag of ["base", "tag", "work-dir"] as const)
    if (v[flag] !== undefined && (v[flag] === "" || v[flag].startsWith("--"))) throw new Error(`--${flag} needs a value; ${USAGE}`);
  return { base: v.base, tag: v.tag ?? DEFAULT_IMAGE_TAG, workDir: v["work-dir"] ?? DEFAULT_PODMAN_DIR, noCache: v["no-cache"] ?? false };
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
}

async function main(): Promise<void> {
  const args = parseImageArgs(process.argv.slice(2));
  const log = (line: string): void => void process.stderr.write(`[image] ${line}\n`);
  const podman = Podman.setUp({ workDir: args.workDir, debianBases: args.base === undefined, log });
  const image = await buildWorkerImage(podman, { base: args.base, tag: args.tag, noCache: args.noCache, log });
  process.stdout.write(
    `built ${image.tag} in ${image.seconds.toFixed(0)} s on ${image.base}\n` +
      `  size   ${mib(image.sizeBytes)} (${image.sizeBytes} bytes)\n` +
      `  digest ${image.digest}\n` +
      `  id     ${image.id}\n` +
      `  storage: podman --root ${podman.root} --runroot ${podman.runroot} (CONTAINERS_CONF=${podman.confFile})\n`,
  );
  process.stdout.write(
    `IMAGE ${JSON.stringify({ tag: image.tag, id: image.id, digest: image.digest, sizeBytes: image.sizeBytes, base: image.base })}\n`,
  );
}

if (require.main === module)
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof PodmanError ? "npm run image: " : ""}${(err as Error).message}\n`);
    process.exit(1);
  });
