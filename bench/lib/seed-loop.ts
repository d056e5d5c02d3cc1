/**
 * The hand-built loop of the CSC tutorial the project started from: a VM downloads each image with s3cmd,
 * inverts it with ImageMagick's `convert -negate`, uploads the result with s3cmd and logs a row with psql.
 * Here: its configuration and script as data, and the parsing of what the loop prints. Pure, so unit-tested;
 * bench/probes/seed-loop-probe.ts runs it against the local pipeline's S3 server and database.
 */

/** The table the loop logs to: the tutorial's event log, one row per transformed image, in the pipeline's database. */
export const SEED_LOOP_TABLE = "seed_loop.events";

export const SEED_LOOP_SCHEMA_SQL = [
  "CREATE SCHEMA IF NOT EXISTS seed_loop",
  `CREATE TABLE IF NOT EXISTS ${SEED_LOOP_TABLE} (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     input_bucket text NOT NULL,
     input_key text NOT NULL,
     output_bucket text NOT NULL,
     output_key text NOT NULL,
     processed_at timestamptz NOT NULL DEFAULT now())`,
];

export interface S3cmdEndpoint {
  /** host:port of an S3 server reached over plain HTTP. */
  readonly hostPort: string;
  readonly accessKey: string;
  readonly secretKey: string;
}

function iniValue(name: string, value: string): string {
  if (/[\r\n]/.test(value)) throw new Error(`s3cmd setting ${name} must be one line`);
  return `${name} = ${value}`;
}

/**
 * An s3cmd configuration file (`s3cmd -c FILE`) for a local S3 server: path-style addressing (host_bucket
 * without %(bucket)s), plain HTTP, signature v4, no progress meter.
 */
export function s3cmdConfig(e: S3cmdEndpoint): string {
  if (!/^[\w.-]+:\d+$/.test(e.hostPort)) throw new Error(`s3cmd endpoint must be host:port, got ${JSON.stringify(e.hostPort)}`);
  return [
    "[default]",
    iniValue("access_key", e.accessKey),
    iniValue("secret_key", e.secretKey),
    iniValue("host_base", e.hostPort),
    iniValue("host_bucket", e.hostPort),
    "use_https = False",
    "signature_v2 = False",
    "bucket_location = us-east-1",
    "progress_meter = False",
    "",
  ].join("\n");
}

/** Marker the loop prints once per image: `<marker> <key> <wall ms>`. */
export const IMAGE_LINE = "seed-loop-image";
/** Marker the loop prints once per command: `<marker> <step> <wall s> <user s> <system s>`. */
export const STEP_LINE = "seed-loop-step";
export const STEPS = ["get", "convert", "put", "psql"] as const;
export type Step = (typeof STEPS)[number];

/**
 * The loop as a bash script: one image at a time, each step a separate command as typed on the VM. Keys are
 * the script's arguments; the environment names the tools, the buckets, the s3cmd configuration, a scratch
 * directory and DATABASE_URL. The key reaches SQL as a psql variable (:'key' quotes it), never spliced into
 * the statement. Each command runs under bash's \`time\` keyword, which reports its wall time and the CPU of
 * the process it started (TIMEFORMAT, to stdout; the command's own stderr stays stderr). Per-image wall time
 * comes from $EPOCHREALTIME (a bash builtin: no extra process). At the end \`times\` prints the CPU of the
 * shell and of every command it ran.
 */
export const SEED_LOOP_SCRIPT = `set -euo pipefail
step() {
  TIMEFORMAT="${STEP_LINE} $1 %3R %3U %3S"
  shift
  { time "$@" 2>&3; } 3>&2 2>&1
}
for key in "$@"; do
  t0=$EPOCHREALTIME
  step get "$S3CMD" -c "$S3CMD_CONFIG" --quiet --force get "s3://$INPUT_BUCKET/$key" "$SCRATCH/in.jpg"
  step convert "$CONVERT" "$SCRATCH/in.jpg" -negate "$SCRATCH/out.jpg"
  step put "$S3CMD" -c "$S3CMD_CONFIG" --quiet put "$SCRATCH/out.jpg" "s3://$OUTPUT_BUCKET/$key"
  step psql "$PSQL" "$DATABASE_URL" --no-psqlrc --quiet -o /dev/null -v ON_ERROR_STOP=1 \\
    -v in_bucket="$INPUT_BUCKET" -v key="$key" -v out_bucket="$OUTPUT_BUCKET" <<'SQL'
INSERT INTO ${SEED_LOOP_TABLE} (input_bucket, input_key, output_bucket, output_key) VALUES (:'in_bucket', :'key', :'out_bucket', :'key');
SQL
  t1=$EPOCHREALTIME
  echo "${IMAGE_LINE} $key $(( (\${t1/./} - \${t0/./}) / 1000 ))"
done
times
`;

export interface StepTotals {
  /** Commands of this step that ran. */
  readonly count: number;
  /** Their wall and CPU (user + system) time together, ms. */
  readonly wallMs: number;
  readonly cpuMs: number;
}

export interface LoopOutput {
  /** Wall ms per image, in the order processed. */
  readonly images: { readonly key: string; readonly wallMs: number }[];
  /** Per step (s3cmd get, convert, s3cmd put, psql), from bash's \`time\`. */
  readonly steps: Record<Step, StepTotals>;
  /** CPU ms of the loop's shell itself. */
  readonly shellCpuMs: number;
  /** CPU ms of every command the loop ran (s3cmd, convert, psql), all reaped by the shell. */
  readonly toolsCpuMs: number;
}

const seconds = (line: string): number => {
  const parts = [...line.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  if (parts.length !== 2) throw new Error(`expected user and system time in ${JSON.stringify(line)}`);
  return (parts[0] + parts[1]) * 1000;
};

/** Parses a loop's stdout: its step and image lines, then \`times\` (the shell's user/system time, then its children's). */
export function parseLoopOutput(stdout: string): LoopOutput {
  const lines = stdout.split("\n").map((l) => l.trim());
  const images = lines
    .filter((l) => l.startsWith(`${IMAGE_LINE} `))
    .map((l) => {
      const [, key, ms] = l.split(" ");
      const wallMs = Number(ms);
      if (key === undefined || !Number.isFinite(wallMs)) throw new Error(`malformed image line ${JSON.stringify(l)}`);
      return { key, wallMs };
    });
  const steps = Object.fromEntries(STEPS.map((s) => [s, { count: 0, wallMs: 0, cpuMs: 0 }])) as Record<Step, StepTotals>;
  for (const l of lines.filter((x) => x.startsWith(`${STEP_LINE} `))) {
    const [, name, real, user, sys] = l.split(" ");
    const values = [real, user, sys].map(Number);
    if (!(STEPS as readonly string[]).includes(name) || values.some((v) => !Number.isFinite(v)) || sys === undefined)
      throw new Error(`malformed step line ${JSON.stringify(l)}`);
    const t = steps[name as Step];
    steps[name as Step] = { count: t.count + 1, wallMs: t.wallMs + values[0] * 1000, cpuMs: t.cpuMs + (values[1] + values[2]) * 1000 };
  }
  const times = lines.filter((l) => /^\d+m[\d.]+s \d+m[\d.]+s$/.test(l));
  if (times.length !== 2) throw new Error(`expected the two lines of \`times\` at the end of the loop's output, got ${times.length}`);
  return { images, steps, shellCpuMs: seconds(times[0]), toolsCpuMs: seconds(times[1]) };
}

/** Splits keys over `loops` loops round-robin, so each loop gets the same mix of images. */
export function partition<T>(items: readonly T[], loops: number): T[][] {
  if (!Number.isInteger(loops) || loops < 1) throw new Error(`loops must be a positive integer, got ${loops}`);
  const out: T[][] = Array.from({ length: loops }, () => []);
  items.forEach((item, i) => out[i % loops].push(item));
  return out;
}
