/**
 * The stack outputs verify needs, read from `pulumi stack output --json --show-secrets` or from a file of the
 * same shape (`npm run local`'s READY line is one). Only the S3 keys are required; the kubeconfig turns on the
 * cluster watch.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import { promisify } from "node:util";

export interface VerifyTarget {
  readonly s3Endpoint: string;
  readonly s3Region: string;
  readonly s3AccessKeyId: string;
  readonly s3SecretAccessKey: string;
  readonly inputBucket: string;
  readonly outputBucket: string;
  /** Prepended to the input key to form the output key (the worker's OUTPUT_PREFIX). */
  readonly outputPrefix: string;
  /** Admin kubeconfig (YAML); without it verify does not watch the cluster. */
  readonly kubeconfig?: string;
  readonly kubernetesNamespace?: string;
  /** Name of the worker HorizontalPodAutoscaler (and Deployment). */
  readonly workerAutoscaler?: string;
}

const REQUIRED = ["s3Endpoint", "s3AccessKeyId", "s3SecretAccessKey", "inputBucket", "outputBucket"] as const;

/** Checks an outputs object; throws one error naming every missing or mistyped key. */
export function parseOutputs(value: unknown, source: string): VerifyTarget {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new Error(`${source}: expected a JSON object of stack outputs`);
  const o = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of REQUIRED) {
    if (typeof o[key] !== "string" || o[key] === "")
      problems.push(`${key}: missing or not a string${key === "s3SecretAccessKey" ? " (pulumi stack output needs --show-secrets)" : ""}`);
  }
  const optional = (key: string): string | undefined => {
    const v = o[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") {
      problems.push(`${key}: must be a string`);
      return undefined;
    }
    return v;
  };
  const target = {
    s3Endpoint: o.s3Endpoint as string,
    s3Region: optional("s3Region") ?? "default",
    s3AccessKeyId: o.s3AccessKeyId as string,
    s3SecretAccessKey: o.s3SecretAccessKey as string,
    inputBucket: o.inputBucket as string,
    outputBucket: o.outputBucket as string,
    outputPrefix: optional("outputPrefix") ?? "",
    kubeconfig: optional("kubeconfig") || undefined,
    kubernetesNamespace: optional("kubernetesNamespace"),
    workerAutoscaler: optional("workerAutoscaler"),
  };
  if (problems.length > 0) throw new Error(`${source}: ${problems.join("; ")}`);
  if (target.kubeconfig?.startsWith("[secret]")) throw new Error(`${source}: kubeconfig is masked; read the outputs with --show-secrets`);
  return target;
}

/** Reads a file holding the outputs JSON, or a `READY {json}` line as `npm run local` prints it. */
export function readOutputsFile(file: string): VerifyTarget {
  const text = fs.readFileSync(file, "utf8").trim();
  const json = text.startsWith("READY ") ? text.slice("READY ".length) : text;
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new Error(`${file}: not JSON (${(err as Error).message})`);
  }
  return parseOutputs(value, file);
}

/** `pulumi stack output --json --show-secrets --stack <stack>`: the secrets stay in this process. */
export async function readStackOutputs(stack: string): Promise<VerifyTarget> {
  const { stdout } = await promisify(execFile)("pulumi", ["stack", "output", "--json", "--show-secrets", "--stack", stack], {
    maxBuffer: 16 * 1024 * 1024,
  });
  return parseOutputs(JSON.parse(stdout), `pulumi stack output --stack ${stack}`);
}

/**
 * The stack's S3 credentials are the pipeline's; when the pipeline runs as a user other than the buckets' owner
 * its bucket policy grants it no upload to the input bucket and no delete, so an uploader's keys can be given.
 */
export function withUploaderCredentials(t: VerifyTarget, env: NodeJS.ProcessEnv): VerifyTarget {
  const id = env.VERIFY_S3_ACCESS_KEY_ID;
  const secret = env.VERIFY_S3_SECRET_ACCESS_KEY;
  if ((id === undefined) !== (secret === undefined))
    throw new Error("set both VERIFY_S3_ACCESS_KEY_ID and VERIFY_S3_SECRET_ACCESS_KEY, or neither");
  return id && secret ? { ...t, s3AccessKeyId: id, s3SecretAccessKey: secret } : t;
}
