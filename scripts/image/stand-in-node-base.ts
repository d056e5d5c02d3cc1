/**
 * The stand-in for the official node image (node:<version>-bookworm-slim), built where no registry is
 * reachable: Debian bookworm minbase with this machine's Node.js binary and npm copied to where the official
 * image has them (/usr/local/bin, /usr/local/lib/node_modules/npm) and its 'node' user (1000:1000, home
 * /home/node). The worker's Dockerfile builds on it unchanged (NODE_IMAGE build argument); what only the
 * official base can show is checked by the image workflow (docs/container-image.md).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { ensureDebianBase, type DebianBaseRecipe } from "./debian-base";
import type { Podman } from "./podman";

/** Where this process's npm lives (next to the node binary, as in Node's release tarballs and Debian's nodejs). */
export function hostNpmDir(nodeBinary = process.execPath): string {
  const candidates = [path.resolve(path.dirname(nodeBinary), "..", "lib", "node_modules", "npm"), "/usr/lib/node_modules/npm"];
  const dir = candidates.find((d) => fs.existsSync(path.join(d, "package.json")));
  if (!dir) throw new Error(`npm not found next to ${nodeBinary} (looked in ${candidates.join(", ")})`);
  return dir;
}

export function standInNodeRecipe(nodeBinary = process.execPath): DebianBaseRecipe {
  const npmDir = hostNpmDir(nodeBinary);
  const npmVersion = JSON.parse(fs.readFileSync(path.join(npmDir, "package.json"), "utf8")).version as string;
  const nodeVersion = spawnSync(nodeBinary, ["--version"], { encoding: "utf8" }).stdout.trim();
  const q = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;
  return {
    name: "localhost/image-pipeline-stand-in-node",
    include: [],
    customize: [
      `mkdir -p "$1/usr/local/lib/node_modules" && cp ${q(nodeBinary)} "$1/usr/local/bin/node" && cp -a ${q(npmDir)} "$1/usr/local/lib/node_modules/npm"`,
      'ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm" && ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"',
      'chroot "$1" groupadd --gid 1000 node && chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node',
    ],
    key: `node ${nodeVersion}, npm ${npmVersion}`,
    changes: [
      "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
      `ENV NODE_VERSION=${nodeVersion.replace(/^v/, "")}`,
      'CMD ["node"]',
    ],
  };
}

/** The stand-in base's tag, built (about 40 s) unless cached. */
export function ensureStandInNodeBase(podman: Podman, log?: (line: string) => void): string {
  return ensureDebianBase(podman, standInNodeRecipe(), log);
}
