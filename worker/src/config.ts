/**
 * Worker configuration: every environment variable the image reads, with its default, in one list.
 * The Kubernetes builders import WORKER_ENV to render Deployments; loadConfig validates the
 * environment at start and reports every problem in one message.
 */
import { ConfigError } from "./config-error";

export type Command = "webhook" | "worker" | "migrate";
export type ReconcileMode = "notifications" | "poll" | "both";
export const RECONCILE_MODES: readonly ReconcileMode[] = ["notifications", "poll", "both"];

type Kind = "string" | "url" | "int" | "bool" | "enum" | "list";

export interface EnvVarSpec {
  readonly name: string;
  readonly kind: Kind;
  /** Default as the string a user would write; undefined means required by the commands in usedBy. */
  readonly default?: string;
  readonly usedBy: readonly Command[];
  /** Secret values belong in a Kubernetes Secret, not a ConfigMap. */
  readonly secret?: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly values?: readonly string[];
  readonly description: string;
}

const ALL: readonly Command[] = ["webhook", "worker", "migrate"];
const SERVING: readonly Command[] = ["webhook", "worker"];
const WORKER: readonly Command[] = ["worker"];

export const WORKER_ENV: readonly EnvVarSpec[] = [
  {
    name: "DATABASE_URL",
    kind: "url",
    usedBy: ALL,
    secret: true,
    description: "PostgreSQL URL (postgres://user:pass@host:5432/db); holds the queue and the event log",
  },
  {
    name: "DATABASE_APP_ROLE",
    kind: "string",
    default: "",
    usedBy: ["migrate"],
    description:
      "Role the webhook and the worker connect as (DATABASE_URL's user in their environment); when set, migrate (connected as the owner) creates or updates it with only the privileges the services need",
  },
  {
    name: "DATABASE_APP_PASSWORD",
    kind: "string",
    default: "",
    usedBy: ["migrate"],
    secret: true,
    description: "Password migrate gives DATABASE_APP_ROLE (stored as a SCRAM verifier); a new value rotates it",
  },
  { name: "S3_ENDPOINT", kind: "url", usedBy: WORKER, description: "S3 endpoint URL, e.g. https://rgw.example.org" },
  {
    name: "S3_REGION",
    kind: "string",
    default: "default",
    usedBy: WORKER,
    description: "S3 region name (Ceph RGW: the zonegroup, usually 'default')",
  },
  { name: "S3_ACCESS_KEY_ID", kind: "string", usedBy: WORKER, secret: true, description: "S3 access key" },
  { name: "S3_SECRET_ACCESS_KEY", kind: "string", usedBy: WORKER, secret: true, description: "S3 secret key" },
  {
    name: "S3_FORCE_PATH_STYLE",
    kind: "bool",
    default: "true",
    usedBy: WORKER,
    description: "Address buckets as /bucket/key (needed for Ceph RGW without wildcard DNS)",
  },
  { name: "INPUT_BUCKET", kind: "string", usedBy: SERVING, description: "Bucket whose uploads are transformed" },
  { name: "OUTPUT_BUCKET", kind: "string", usedBy: WORKER, description: "Bucket the transformed images are written to" },
  {
    name: "OUTPUT_PREFIX",
    kind: "string",
    default: "",
    usedBy: WORKER,
    description: "Prefix prepended to the input key to form the output key",
  },
  {
    name: "WEBHOOK_SECRET",
    kind: "string",
    usedBy: ["webhook"],
    secret: true,
    description: "Shared secret the notification topic sends as OpaqueData (or as 'Authorization: Bearer')",
  },
  {
    name: "KEY_PREFIX_FILTER",
    kind: "string",
    default: "",
    usedBy: SERVING,
    description: "Only keys starting with this prefix are processed",
  },
  {
    name: "KEY_SUFFIX_FILTER",
    kind: "list",
    default: "",
    usedBy: SERVING,
    description: "Comma-separated key suffixes to process, case-insensitive (e.g. '.jpg,.png'); empty means all",
  },
  {
    name: "PORT",
    kind: "int",
    default: "8080",
    min: 1,
    max: 65535,
    usedBy: SERVING,
    description: "HTTP port for /notify (webhook), /healthz, /readyz and /metrics",
  },
  {
    name: "VISIBILITY_TIMEOUT_SECONDS",
    kind: "int",
    default: "60",
    min: 2,
    max: 86400,
    usedBy: WORKER,
    description: "A claimed job whose lease is not renewed for this long is given to another worker",
  },
  {
    name: "MAX_ATTEMPTS",
    kind: "int",
    default: "5",
    min: 1,
    max: 100,
    usedBy: SERVING,
    description:
      "Strikes before a job is dead-lettered: attempts that end in a way the input itself may cause (the worker died or hung holding it, the transform timed out, an unexpected error). Transient failures do not count: they retry until RETRY_BUDGET_SECONDS",
  },
  {
    name: "RETRY_BASE_MS",
    kind: "int",
    default: "2000",
    min: 1,
    max: 3600000,
    usedBy: WORKER,
    description: "First retry delay; doubles per attempt",
  },
  {
    name: "RETRY_MAX_MS",
    kind: "int",
    default: "300000",
    min: 1,
    max: 86400000,
    usedBy: WORKER,
    description: "Upper bound of the retry delay",
  },
  {
    name: "RETRY_BUDGET_SECONDS",
    kind: "int",
    default: "21600",
    min: 1,
    max: 2592000,
    usedBy: WORKER,
    description:
      "How long a job keeps retrying transient failures (S3 or the database unavailable, 5xx, timeouts), from its first one, before it is dead-lettered; the reconciler then re-queues it",
  },
  {
    name: "S3_CONNECT_TIMEOUT_MS",
    kind: "int",
    default: "5000",
    min: 100,
    max: 600000,
    usedBy: WORKER,
    description: "Time an S3 request may take to establish its TCP connection",
  },
  {
    name: "S3_REQUEST_TIMEOUT_MS",
    kind: "int",
    default: "30000",
    min: 100,
    max: 3600000,
    usedBy: WORKER,
    description:
      "Time an S3 request may wait for the response to start, and the longest silence while a body streams; each timeout is logged and counted (image_pipeline_s3_timeouts_total)",
  },
  {
    name: "LIMIT_INPUT_PIXELS",
    kind: "int",
    default: "100000000",
    min: 1,
    usedBy: WORKER,
    description: "Images with more pixels (width x height x frames) fail permanently, before decoding",
  },
  {
    name: "MAX_INPUT_BYTES",
    kind: "int",
    default: "104857600",
    min: 1,
    usedBy: WORKER,
    description: "Objects larger than this fail permanently without being downloaded",
  },
  { name: "TRANSFORM_TIMEOUT_MS", kind: "int", default: "30000", min: 100, usedBy: WORKER, description: "Per-image transform time limit" },
  {
    name: "RECONCILE_MODE",
    kind: "enum",
    default: "both",
    values: RECONCILE_MODES,
    usedBy: WORKER,
    description:
      "notifications: webhook only; poll: list the bucket only; both: webhook plus periodic listing to recover lost notifications",
  },
  {
    name: "RECONCILE_INTERVAL_SECONDS",
    kind: "int",
    default: "300",
    min: 1,
    usedBy: WORKER,
    description: "Time between bucket listings when RECONCILE_MODE is poll or both",
  },
  {
    name: "WORKER_CONCURRENCY",
    kind: "int",
    default: "2",
    min: 1,
    max: 64,
    usedBy: WORKER,
    description: "Jobs one worker process transforms at the same time",
  },
  {
    name: "SHUTDOWN_GRACE_SECONDS",
    kind: "int",
    default: "25",
    min: 0,
    max: 3600,
    usedBy: SERVING,
    description: "On SIGTERM, time to finish in-flight jobs before releasing them; keep below terminationGracePeriodSeconds",
  },
  {
    name: "NOTIFICATION_MAX_AGE_SECONDS",
    kind: "int",
    default: "604800",
    min: 60,
    max: 31536000,
    usedBy: ["webhook"],
    description:
      "Notifications whose eventTime is older than this get 401 (a replay). Keep it above the longest delay a persistent topic may deliver with (a webhook outage): RGW retries a refused notification and holds back the ones queued behind it",
  },
  {
    name: "MAX_BODY_BYTES",
    kind: "int",
    default: "1048576",
    min: 1024,
    usedBy: ["webhook"],
    description: "Largest notification body accepted; larger ones get 413",
  },
  {
    name: "WORKER_ID",
    kind: "string",
    default: "",
    usedBy: WORKER,
    description: "Name recorded on claimed jobs and event rows; empty means <hostname>-<pid>",
  },
  {
    name: "LOG_LEVEL",
    kind: "enum",
    default: "info",
    values: ["fatal", "error", "warn", "info", "debug", "trace", "silent"],
    usedBy: ALL,
    description: "pino log level",
  },
];

export interface WorkerConfig {
  readonly command: Command;
  readonly databaseUrl: string;
  /** migrate only: the role the services connect as, to create or update after the migrations. */
  readonly databaseAppRole?: { readonly name: string; readonly password: string };
  readonly s3: {
    readonly endpoint: string;
    readonly region: string;
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly forcePathStyle: boolean;
    readonly connectTimeoutMs: number;
    readonly requestTimeoutMs: number;
  };
  readonly inputBucket: string;
  readonly outputBucket: string;
  readonly outputPrefix: string;
  readonly webhookSecret: string;
  readonly keyPrefixFilter: string;
  readonly keySuffixFilter: readonly string[];
  readonly port: number;
  readonly visibilityTimeoutSeconds: number;
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly retryBudgetSeconds: number;
  readonly limitInputPixels: number;
  readonly maxInputBytes: number;
  readonly transformTimeoutMs: number;
  readonly reconcileMode: ReconcileMode;
  readonly reconcileIntervalSeconds: number;
  readonly workerConcurrency: number;
  readonly shutdownGraceSeconds: number;
  readonly maxBodyBytes: number;
  readonly notificationMaxAgeSeconds: number;
  readonly workerId: string;
  readonly logLevel: string;
}

export { ConfigError };

type Parsed = string | number | boolean | readonly string[];

function parseValue(spec: EnvVarSpec, raw: string): { value?: Parsed; problem?: string } {
  switch (spec.kind) {
    case "string":
      return { value: raw };
    case "list":
      return {
        value: raw
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s.length > 0),
      };
    case "url": {
      try {
        new URL(raw);
        return { value: raw };
      } catch {
        return { problem: `${spec.name}="${redact(spec, raw)}" is not a URL; set it to ${spec.description}` };
      }
    }
    case "bool": {
      const v = raw.toLowerCase();
      if (["true", "1", "yes"].includes(v)) return { value: true };
      if (["false", "0", "no"].includes(v)) return { value: false };
      return { problem: `${spec.name}="${raw}" is not a boolean; use true or false` };
    }
    case "int": {
      if (!/^-?\d+$/.test(raw.trim())) return { problem: `${spec.name}="${raw}" is not an integer; ${spec.description}` };
      const n = Number(raw.trim());
      if (spec.min !== undefined && n < spec.min) return { problem: `${spec.name}=${n} is below the minimum ${spec.min}` };
      if (spec.max !== undefined && n > spec.max) return { problem: `${spec.name}=${n} is above the maximum ${spec.max}` };
      return { value: n };
    }
    case "enum":
      if (!spec.values?.includes(raw)) return { problem: `${spec.name}="${raw}" must be one of: ${spec.values?.join(", ")}` };
      return { value: raw };
  }
}

function redact(spec: EnvVarSpec, raw: string): string {
  return spec.secret ? "<redacted>" : raw;
}

/** Reads and validates the environment for one command; throws ConfigError listing every problem. */
/** The default of one of the image's environment variables; the stack config takes the same default from here. */
export function workerEnvDefault(name: string): string {
  const value = WORKER_ENV.find((v) => v.name === name)?.default;
  if (value === undefined) throw new Error(`worker/src/config.ts declares no default for ${name}`);
  return value;
}

export function loadConfig(env: NodeJS.ProcessEnv, command: Command): WorkerConfig {
  const problems: string[] = [];
  const values = new Map<string, Parsed>();
  for (const spec of WORKER_ENV) {
    const raw = env[spec.name];
    const needed = spec.usedBy.includes(command);
    if (raw === undefined || (raw === "" && spec.default === undefined)) {
      if (spec.default !== undefined) {
        values.set(spec.name, parseValue(spec, spec.default).value as Parsed);
      } else if (needed) {
        problems.push(`${spec.name} is required for '${command}': ${spec.description}`);
      }
      continue;
    }
    const { value, problem } = parseValue(spec, raw);
    if (problem && needed) problems.push(problem);
    else if (value !== undefined) values.set(spec.name, value);
  }
  if (
    command === "worker" &&
    values.get("RETRY_MAX_MS") !== undefined &&
    (values.get("RETRY_MAX_MS") as number) < (values.get("RETRY_BASE_MS") as number)
  ) {
    problems.push(`RETRY_MAX_MS=${values.get("RETRY_MAX_MS")} is below RETRY_BASE_MS=${values.get("RETRY_BASE_MS")}; raise RETRY_MAX_MS`);
  }
  if (
    command === "worker" &&
    values.get("INPUT_BUCKET") !== undefined &&
    values.get("INPUT_BUCKET") === values.get("OUTPUT_BUCKET") &&
    values.get("OUTPUT_PREFIX") === ""
  ) {
    problems.push(
      "OUTPUT_BUCKET equals INPUT_BUCKET with an empty OUTPUT_PREFIX: outputs would overwrite inputs and re-trigger notifications; use another bucket or set OUTPUT_PREFIX and exclude it with KEY_PREFIX_FILTER",
    );
  }
  const dbUrl = values.get("DATABASE_URL") as string | undefined;
  if (dbUrl !== undefined && !/^postgres(ql)?:$/.test(new URL(dbUrl).protocol)) {
    problems.push(`DATABASE_URL must use the postgres:// or postgresql:// scheme`);
  }
  const appRole = (values.get("DATABASE_APP_ROLE") as string | undefined) ?? "";
  const appPassword = (values.get("DATABASE_APP_PASSWORD") as string | undefined) ?? "";
  if (command === "migrate" && (appRole === "") !== (appPassword === "")) {
    problems.push("DATABASE_APP_ROLE and DATABASE_APP_PASSWORD go together: set both (migrate provisions the role) or neither");
  }
  const s3Endpoint = values.get("S3_ENDPOINT") as string | undefined;
  if (command === "worker" && s3Endpoint !== undefined && !/^https?:$/.test(new URL(s3Endpoint).protocol)) {
    problems.push(`S3_ENDPOINT must be an http:// or https:// URL`);
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const str = (n: string): string => (values.get(n) as string | undefined) ?? "";
  const num = (n: string): number => values.get(n) as number;
  return {
    command,
    databaseUrl: str("DATABASE_URL"),
    databaseAppRole: command === "migrate" && appRole !== "" ? { name: appRole, password: appPassword } : undefined,
    s3: {
      endpoint: str("S3_ENDPOINT"),
      region: str("S3_REGION"),
      accessKeyId: str("S3_ACCESS_KEY_ID"),
      secretAccessKey: str("S3_SECRET_ACCESS_KEY"),
      forcePathStyle: values.get("S3_FORCE_PATH_STYLE") as boolean,
      connectTimeoutMs: num("S3_CONNECT_TIMEOUT_MS"),
      requestTimeoutMs: num("S3_REQUEST_TIMEOUT_MS"),
    },
    inputBucket: str("INPUT_BUCKET"),
    outputBucket: str("OUTPUT_BUCKET"),
    outputPrefix: str("OUTPUT_PREFIX"),
    webhookSecret: str("WEBHOOK_SECRET"),
    keyPrefixFilter: str("KEY_PREFIX_FILTER"),
    keySuffixFilter: (values.get("KEY_SUFFIX_FILTER") as readonly string[]).map((s) => s.toLowerCase()),
    port: num("PORT"),
    visibilityTimeoutSeconds: num("VISIBILITY_TIMEOUT_SECONDS"),
    maxAttempts: num("MAX_ATTEMPTS"),
    retryBaseMs: num("RETRY_BASE_MS"),
    retryMaxMs: num("RETRY_MAX_MS"),
    retryBudgetSeconds: num("RETRY_BUDGET_SECONDS"),
    limitInputPixels: num("LIMIT_INPUT_PIXELS"),
    maxInputBytes: num("MAX_INPUT_BYTES"),
    transformTimeoutMs: num("TRANSFORM_TIMEOUT_MS"),
    reconcileMode: str("RECONCILE_MODE") as ReconcileMode,
    reconcileIntervalSeconds: num("RECONCILE_INTERVAL_SECONDS"),
    workerConcurrency: num("WORKER_CONCURRENCY"),
    shutdownGraceSeconds: num("SHUTDOWN_GRACE_SECONDS"),
    maxBodyBytes: num("MAX_BODY_BYTES"),
    notificationMaxAgeSeconds: num("NOTIFICATION_MAX_AGE_SECONDS"),
    workerId: str("WORKER_ID"),
    logLevel: str("LOG_LEVEL"),
  };
}

/** Key filter shared by the webhook and the reconciler so both accept exactly the same objects. */
export function keyMatchesFilter(key: string, cfg: Pick<WorkerConfig, "keyPrefixFilter" | "keySuffixFilter">): boolean {
  if (!key.startsWith(cfg.keyPrefixFilter)) return false;
  if (cfg.keySuffixFilter.length === 0) return true;
  const lower = key.toLowerCase();
  return cfg.keySuffixFilter.some((s) => lower.endsWith(s));
}

/**
 * Keys with "." or ".." path segments (e.g. "a/../b", "./x", "a/."): some S3 servers resolve them on disk,
 * so the object read may not be the object named. The webhook ignores them (counted as ignored_unsafe_key),
 * and so does the reconciler.
 */
export function isUnsafeKey(key: string): boolean {
  return key.split("/").some((segment) => segment === "." || segment === "..");
}
