/**
 * Base images built from Debian's packages alone (no registry is reachable here): mmdebstrap makes a
 * bookworm rootfs from the Debian mirror apt already uses, `podman import` turns it into an image. Each is
 * tagged with a hash of its recipe, so a second run (or a second test in the same run) reuses it.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { Podman, PodmanError } from "./podman";

export interface DebianBaseRecipe {
  /** Image name without tag, e.g. localhost/image-pipeline-stand-in-node. */
  readonly name: string;
  /** Packages on top of minbase. */
  readonly include: readonly string[];
  /** mmdebstrap --customize-hook commands (shell; "$1" is the rootfs). */
  readonly customize: readonly string[];
  /** Anything else the result depends on (e.g. the Node.js version copied in). */
  readonly key: string;
  /** podman import --change instructions (ENV, USER, CMD ...). */
  readonly changes: readonly string[];
}

export function recipeTag(recipe: DebianBaseRecipe): string {
  const hash = createHash("sha256")
    .update(JSON.stringify({ ...recipe, name: undefined }))
    .digest("hex")
    .slice(0, 12);
  return `${recipe.name}:${hash}`;
}

/** Builds the base unless an image with its recipe's tag exists; returns the tag. */
export function ensureDebianBase(podman: Podman, recipe: DebianBaseRecipe, log: (line: string) => void = () => undefined): string {
  const tag = recipeTag(recipe);
  if (podman.imageExists(tag)) {
    log(`base ${tag}: cached`);
    return tag;
  }
  const started = Date.now();
  const tmp = fs.mkdtempSync(path.join(podman.workDir, "rootfs-"));
  try {
    const tarball = path.join(tmp, "rootfs.tar");
    const args = [
      "--variant=minbase",
      "--mode=root",
      ...(recipe.include.length > 0 ? [`--include=${recipe.include.join(",")}`] : []),
      ...recipe.customize.map((hook) => `--customize-hook=${hook}`),
      // Package lists and downloaded .debs are no part of a base image.
      '--customize-hook=rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin',
      "bookworm",
      tarball,
    ];
    log(`base ${tag}: mmdebstrap ${recipe.include.join(",") || "minbase"}`);
    const r = spawnSync("mmdebstrap", args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0) throw new PodmanError(`mmdebstrap failed (exit ${r.status}):\n${(r.stderr ?? "").trim().slice(-3000)}`);
    podman.ok(["import", ...recipe.changes.flatMap((c) => ["--change", c]), tarball, tag]);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  log(`base ${tag}: built in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return tag;
}
