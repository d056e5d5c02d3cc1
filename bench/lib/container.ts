/**
 * The allocator and libvips settings the worker container runs with (worker/Dockerfile ENV), as the
 * benchmark applies them to the processes it measures. Keep the two in step: BENCHMARKS.md reports
 * the memory each option gives, and this is the chosen one.
 */
export interface AllocatorSetting {
  /** Short label for tables. */
  readonly name: string;
  readonly description: string;
  /** Environment for the measured process (LD_PRELOAD is filled in with the found jemalloc path). */
  readonly env: Record<string, string>;
  readonly needsJemalloc: boolean;
  /**
   * libvips threads per image, set as VIPS_CONCURRENCY like the container does; undefined keeps sharp's
   * default (1 under glibc malloc without MALLOC_ARENA_MAX, otherwise the number of cores).
   */
  readonly vipsConcurrency?: number;
  /** Disable libvips' operation cache (sharp.cache(false)). */
  readonly cacheOff: boolean;
}

export const ALLOCATOR_SETTINGS: readonly AllocatorSetting[] = [
  {
    name: "glibc",
    description: "glibc malloc, sharp defaults: what a plain `node` process gets",
    env: {},
    needsJemalloc: false,
    cacheOff: false,
  },
  {
    name: "glibc-arena2",
    description: "glibc malloc, MALLOC_ARENA_MAX=2, VIPS_CONCURRENCY=1",
    env: { MALLOC_ARENA_MAX: "2" },
    needsJemalloc: false,
    vipsConcurrency: 1,
    cacheOff: false,
  },
  {
    name: "glibc-arena2-nocache",
    description: "as glibc-arena2, plus sharp.cache(false)",
    env: { MALLOC_ARENA_MAX: "2" },
    needsJemalloc: false,
    vipsConcurrency: 1,
    cacheOff: true,
  },
  {
    name: "jemalloc",
    description: "jemalloc 5.3 via LD_PRELOAD, VIPS_CONCURRENCY=1",
    env: {},
    needsJemalloc: true,
    vipsConcurrency: 1,
    cacheOff: false,
  },
  {
    name: "jemalloc-decay",
    description: "jemalloc via LD_PRELOAD, pages returned within 1 s (MALLOC_CONF), VIPS_CONCURRENCY=1",
    env: { MALLOC_CONF: "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0" },
    needsJemalloc: true,
    vipsConcurrency: 1,
    cacheOff: false,
  },
];

/** The setting worker/Dockerfile uses; the transform and pipeline benchmarks run under it too. */
export const CONTAINER_SETTING_NAME = "glibc-arena2";

export function settingByName(name: string): AllocatorSetting {
  const found = ALLOCATOR_SETTINGS.find((s) => s.name === name);
  if (!found) throw new Error(`unknown allocator setting '${name}'; known: ${ALLOCATOR_SETTINGS.map((s) => s.name).join(", ")}`);
  return found;
}

/** Process environment for a setting; jemallocPath is required when the setting preloads jemalloc. */
export function settingEnv(setting: AllocatorSetting, jemallocPath: string | undefined): Record<string, string> {
  const env: Record<string, string> = { ...setting.env };
  if (setting.needsJemalloc) {
    if (!jemallocPath) throw new Error(`allocator setting '${setting.name}' needs jemalloc (Debian package libjemalloc2)`);
    env.LD_PRELOAD = jemallocPath;
  }
  if (setting.vipsConcurrency !== undefined) env.VIPS_CONCURRENCY = String(setting.vipsConcurrency);
  if (setting.cacheOff) env.BENCH_SHARP_CACHE = "off";
  return env;
}
