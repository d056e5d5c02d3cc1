/**
 * Where a process's main thread spends its CPU, from a V8 `.cpuprofile` (written by `node --cpu-prof`):
 * every sample's time goes to one category, chosen from the sampled stack. Pure, so it is unit-tested on
 * hand-made profiles.
 *
 * A sample is attributed to the frame nearest the leaf that belongs to a package or to the repository's
 * code: a Node internal (a Buffer copy, a socket write, an HMAC) counts for whoever called it. The AWS SDK's
 * shared helpers (hashing, byte utilities in @smithy/core) count for the SDK step that called them: a SHA-256
 * called by the SigV4 signer is signing, not middleware. Only a
 * stack with nothing but Node internals falls back to the internal module (sockets, timers). The V8 profiler
 * samples the JavaScript thread only: libvips' threads (sharp's transform) and the libuv pool do not
 * appear here; the benchmark measures them separately from /proc.
 */

export interface CallFrame {
  readonly functionName: string;
  readonly url: string;
}

export interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

/** The parts of the DevTools Profile object (`.cpuprofile`) this module reads; times in microseconds. */
export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export const CATEGORIES = [
  "sharp (JavaScript side)",
  "AWS SDK: signing",
  "AWS SDK: XML",
  "AWS SDK: middleware and serde",
  "HTTP and sockets",
  "pg protocol",
  "pino logging",
  "prom-client metrics",
  "timers",
  "worker code",
  "GC",
  "V8 and native (program)",
  "other",
] as const;
export type Category = (typeof CATEGORIES)[number];

/** [category, test on the frame's script URL] for package and repository frames, most specific first. */
const PACKAGE_RULES: readonly (readonly [Category, RegExp])[] = [
  ["sharp (JavaScript side)", /\/node_modules\/(@img\/)?sharp\//],
  ["AWS SDK: signing", /\/node_modules\/(@smithy|@aws-sdk)\/signature-v4[^/]*\//],
  ["AWS SDK: XML", /\/node_modules\/(fast-xml-parser|strnum|@aws-sdk\/xml-builder)\/|\/node_modules\/@aws-sdk\/core\/.*xml/i],
  ["HTTP and sockets", /\/node_modules\/@smithy\/node-http-handler\//],
  ["AWS SDK: middleware and serde", /\/node_modules\/(@smithy|@aws-sdk|@aws-crypto)\//],
  ["pg protocol", /\/node_modules\/(pg|pg-protocol|pg-pool|pg-types|pg-connection-string|postgres-[a-z]+)\//],
  [
    "pino logging",
    /\/node_modules\/(pino[^/]*|sonic-boom|thread-stream|fast-redact|quick-format-unescaped|atomic-sleep|on-exit-leak-free)\//,
  ],
  ["prom-client metrics", /\/node_modules\/(prom-client|tdigest|bintrees)\//],
  ["worker code", /\/(worker\/src|common)\/[^/]+(\/[^/]+)*\.(js|ts)$/],
];

const SDK_GENERIC: Category = "AWS SDK: middleware and serde";

/** For stacks of Node internals only. */
const INTERNAL_RULES: readonly (readonly [Category, RegExp])[] = [
  ["timers", /^node:internal\/timers$|^node:timers$/],
  ["HTTP and sockets", /^node:(_http_\w+|http|https|net|tls|dns|internal\/(http|net|stream_base_commons|streams\/.*|tls\/.*|dns\/.*))$/],
];

/** The category a frame decides by itself, or undefined when its callers decide. */
export function frameCategory(frame: CallFrame): Category | undefined {
  if (frame.functionName === "(garbage collector)") return "GC";
  for (const [category, re] of PACKAGE_RULES) if (re.test(frame.url)) return category;
  return undefined;
}

function internalCategory(frame: CallFrame): Category | undefined {
  for (const [category, re] of INTERNAL_RULES) if (re.test(frame.url)) return category;
  return undefined;
}

export interface Breakdown {
  /** Sampled busy time per category, ms (idle excluded). */
  readonly ms: Readonly<Record<Category, number>>;
  /** Busy (non-idle) sampled time, ms. */
  readonly busyMs: number;
  /** Idle sampled time, ms. */
  readonly idleMs: number;
  readonly samples: number;
}

/**
 * Sampled time per category. A sample lasts until the next one; with `window` (microseconds on the
 * profile's clock, CLOCK_MONOTONIC on Linux, the clock of process.hrtime), only samples taken inside it count.
 */
export function profileBreakdown(profile: CpuProfile, window?: { readonly startUs: number; readonly endUs: number }): Breakdown {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const categoryOf = new Map<number, Category | "idle">();
  const classify = (id: number): Category | "idle" => {
    const known = categoryOf.get(id);
    if (known) return known;
    const leaf = byId.get(id);
    if (!leaf) throw new Error(`profile sample names node ${id}, which is not in the profile`);
    let result: Category | "idle" | undefined;
    if (leaf.callFrame.functionName === "(idle)") result = "idle";
    else if (leaf.callFrame.functionName === "(program)") result = "V8 and native (program)";
    let internal: Category | undefined;
    let cur: number | undefined = id;
    for (; result === undefined && cur !== undefined; cur = parent.get(cur)) {
      const frame = (byId.get(cur) as ProfileNode).callFrame;
      result = frameCategory(frame);
      internal ??= internalCategory(frame);
    }
    // Within the SDK, the signer or the XML (de)serializer further up owns the generic helper found first.
    for (; result === SDK_GENERIC && cur !== undefined; cur = parent.get(cur)) {
      const above = frameCategory((byId.get(cur) as ProfileNode).callFrame);
      if (above === "AWS SDK: signing" || above === "AWS SDK: XML") result = above;
      else if (above !== SDK_GENERIC) break;
    }
    result ??= internal ?? "other";
    categoryOf.set(id, result);
    return result;
  };

  const ms = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;
  let idleUs = 0;
  let busyUs = 0;
  let counted = 0;
  let t = profile.startTime;
  const times = profile.samples.map((_, i) => (t += profile.timeDeltas[i] ?? 0));
  for (let i = 0; i < profile.samples.length; i++) {
    const at = times[i];
    if (window && (at < window.startUs || at >= window.endUs)) continue;
    const next = i + 1 < times.length ? times[i + 1] : profile.endTime;
    const duration = Math.max(0, (window ? Math.min(next, window.endUs) : next) - at);
    const category = classify(profile.samples[i]);
    counted++;
    if (category === "idle") idleUs += duration;
    else {
      ms[category] += duration / 1000;
      busyUs += duration;
    }
  }
  return { ms, busyMs: busyUs / 1000, idleMs: idleUs / 1000, samples: counted };
}
