/**
 * The external tools the benchmark compares against, found and checked without installing anything.
 * A missing tool is reported with the Debian package that provides it.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { CEPH_BINARIES } from "../../test/ceph/harness/packages";
import { findExecutable, missingPackages } from "../../test/support/system-packages";

export interface Tool {
  readonly path: string;
  readonly version: string;
}

export interface Toolset {
  readonly vips?: Tool;
  readonly imagemagick?: Tool;
  /** Path of jemalloc's shared library, for LD_PRELOAD. */
  readonly jemalloc?: string;
  /** The S3 command-line client and the PostgreSQL client of the tutorial's hand-built loop. */
  readonly s3cmd?: Tool;
  readonly psql?: Tool;
  /** Ceph Pacific's daemons and tools for the single-host cluster of test/ceph/harness (path of radosgw). */
  readonly ceph?: Tool;
}

export interface ToolRequirement {
  readonly name: "vips" | "imagemagick" | "jemalloc" | "s3cmd" | "psql" | "ceph";
  readonly debianPackage: string;
  readonly why: string;
}

export const REQUIREMENTS: readonly ToolRequirement[] = [
  { name: "vips", debianPackage: "libvips-tools", why: "the `vips invert` CLI, the transform's limit" },
  { name: "imagemagick", debianPackage: "imagemagick", why: "`convert -negate`, the seed-era alternative" },
  { name: "jemalloc", debianPackage: "libjemalloc2", why: "the allocator the worker container preloads" },
  { name: "s3cmd", debianPackage: "s3cmd", why: "the S3 client of the tutorial's hand-built loop" },
  { name: "psql", debianPackage: "postgresql-client", why: "the database client of the tutorial's hand-built loop" },
  {
    name: "ceph",
    debianPackage: [...new Set(Object.values(CEPH_BINARIES))].sort().join(" "),
    why: "a single-host Ceph cluster (mon, memstore OSD, radosgw) for --ceph",
  },
];

function firstLine(file: string, args: readonly string[]): string | undefined {
  try {
    return execFileSync(file, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 10_000 })
      .split("\n")[0]
      .trim();
  } catch {
    return undefined;
  }
}

function isElf(file: string): boolean {
  try {
    const fd = fs.openSync(fs.realpathSync(file), "r");
    const magic = Buffer.alloc(4);
    fs.readSync(fd, magic, 0, 4, 0);
    fs.closeSync(fd);
    return magic.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } catch {
    return false;
  }
}

function onPath(name: string): string[] {
  return (process.env.PATH ?? "")
    .split(":")
    .filter(Boolean)
    .map((dir) => path.join(dir, name))
    .filter((p) => fs.existsSync(p));
}

export function findVips(): Tool | undefined {
  for (const candidate of ["/usr/bin/vips", ...onPath("vips")]) {
    const version = firstLine(candidate, ["--version"]);
    if (version?.startsWith("vips-")) return { path: candidate, version };
  }
  return undefined;
}

/**
 * The real ImageMagick `convert`. /usr/bin/convert (Debian's) comes first because a wrapper script
 * earlier on PATH may stand in for it; only an executable binary that says "ImageMagick" counts.
 */
export function findImageMagick(): Tool | undefined {
  for (const candidate of ["/usr/bin/convert", ...onPath("convert"), ...onPath("magick")]) {
    if (!isElf(candidate)) continue;
    const version = firstLine(candidate, ["-version"]);
    if (version?.includes("ImageMagick")) return { path: candidate, version: version.replace(/^Version:\s*/, "") };
  }
  return undefined;
}

const MULTIARCH: Readonly<Record<string, string>> = { x64: "x86_64-linux-gnu", arm64: "aarch64-linux-gnu" };

export function findJemalloc(): string | undefined {
  const triplet = MULTIARCH[process.arch];
  const candidates = [
    triplet && `/usr/lib/${triplet}/libjemalloc.so.2`,
    triplet && `/lib/${triplet}/libjemalloc.so.2`,
    "/usr/lib/libjemalloc.so.2",
  ];
  return candidates.find((c): c is string => typeof c === "string" && fs.existsSync(c));
}

/** The first candidate whose `--version` output starts with `prefix`. */
function findByVersion(name: string, prefix: RegExp): Tool | undefined {
  for (const candidate of [`/usr/bin/${name}`, ...onPath(name)]) {
    const version = fs.existsSync(candidate) ? firstLine(candidate, ["--version"]) : undefined;
    if (version && prefix.test(version)) return { path: candidate, version };
  }
  return undefined;
}

export const findS3cmd = (): Tool | undefined => findByVersion("s3cmd", /^s3cmd version /);
export const findPsql = (): Tool | undefined => findByVersion("psql", /^psql \(PostgreSQL\) /);

export function findTools(): Toolset {
  return {
    vips: findVips(),
    imagemagick: findImageMagick(),
    jemalloc: findJemalloc(),
    s3cmd: findS3cmd(),
    psql: findPsql(),
    ceph: findCeph(),
  };
}

/** Every binary the Ceph harness runs, or undefined when one is missing. */
export function findCeph(searchPath?: string): Tool | undefined {
  const radosgw = findExecutable("radosgw", searchPath);
  if (!radosgw || missingPackages(CEPH_BINARIES, searchPath).length > 0) return undefined;
  return { path: radosgw, version: firstLine(radosgw, ["--version"]) ?? "unknown" };
}

/** The requirements among `needed` that are missing, and one message saying how to install them; undefined when all are present. */
export function missingToolsMessage(tools: Toolset, needed: readonly ToolRequirement["name"][]): string | undefined {
  const missing = REQUIREMENTS.filter((r) => needed.includes(r.name) && !tools[r.name]);
  if (missing.length === 0) return undefined;
  const packages = missing.map((r) => r.debianPackage).join(" ");
  return [
    "npm run bench needs tools that are not installed (it installs nothing itself):",
    ...missing.map((r) => `  - ${r.name}: ${r.why} (Debian package${r.debianPackage.includes(" ") ? "s" : ""} ${r.debianPackage})`),
    `Install them with: apt-get install -y --no-install-recommends ${packages}`,
    "or skip the sections that need them with --only (see npm run bench -- --help).",
  ].join("\n");
}
