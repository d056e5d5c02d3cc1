/**
 * A throw-away single-host Ceph RGW (Pacific, from Debian) for developers and tests.
 *
 *   npx ts-node --transpile-only test/ceph/ceph-cluster.ts start [--dir DIR] [--owner-pid PID]
 *   npx ts-node --transpile-only test/ceph/ceph-cluster.ts env    [--dir DIR]   # shell exports for the worker
 *   npx ts-node --transpile-only test/ceph/ceph-cluster.ts status [--dir DIR]
 *   npx ts-node --transpile-only test/ceph/ceph-cluster.ts stop   [--dir DIR] [--keep-dir]
 *
 * `start` installs missing Debian packages, starts (or reuses) the cluster and prints one JSON line
 * with the endpoint and credentials on stdout; progress goes to stderr. DIR defaults to
 * $TMPDIR/image-pipeline-ceph. `stop` kills the recorded PIDs and removes DIR.
 */
import {
  clusterStatus,
  defaultClusterDir,
  readClusterState,
  startCephCluster,
  stopCephCluster,
  type CephClusterInfo,
} from "./harness/cluster";

const USAGE = "usage: ceph-cluster.ts start|stop|status|env [--dir DIR] [--owner-pid PID] [--keep-dir]";

interface CliArgs {
  command: string;
  dir: string;
  ownerPid?: number;
  keepDir: boolean;
}

export function parseCliArgs(argv: string[]): CliArgs {
  const [command, ...rest] = argv;
  if (!command || !["start", "stop", "status", "env"].includes(command)) throw new Error(`unknown command "${command ?? ""}". ${USAGE}`);
  const args: CliArgs = { command, dir: defaultClusterDir(), keepDir: false };
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    const value = (): string => {
      const next = rest[++i];
      if (next === undefined || next.startsWith("--")) throw new Error(`${flag} needs a value. ${USAGE}`);
      return next;
    };
    if (flag === "--dir") args.dir = value();
    else if (flag === "--owner-pid") {
      const pid = Number(value());
      if (!Number.isInteger(pid) || pid <= 0) throw new Error(`--owner-pid must be a positive integer PID. ${USAGE}`);
      args.ownerPid = pid;
    } else if (flag === "--keep-dir") args.keepDir = true;
    else throw new Error(`unknown option "${flag}". ${USAGE}`);
  }
  return args;
}

/** What a client needs, in the names the worker reads (worker/src/config.ts). */
export function clusterEnv(info: CephClusterInfo): Record<string, string> {
  return {
    S3_ENDPOINT: info.endpoint,
    S3_REGION: info.region,
    S3_ACCESS_KEY_ID: info.accessKeyId,
    S3_SECRET_ACCESS_KEY: info.secretAccessKey,
    S3_FORCE_PATH_STYLE: "true",
    CEPH_CONF: info.confPath,
  };
}

const shellQuote = (value: string): string => `'${value.replace(/'/g, `'\\''`)}'`;

function requireState(dir: string): CephClusterInfo {
  const info = readClusterState(dir);
  if (!info) throw new Error(`no cluster recorded in ${dir}. Fix: run "ceph-cluster.ts start --dir ${dir}" first.`);
  return info;
}

async function main(argv: string[]): Promise<number> {
  const args = parseCliArgs(argv);
  const log = (line: string): void => void process.stderr.write(`ceph-cluster: ${line}\n`);
  switch (args.command) {
    case "start": {
      const info = await startCephCluster({ dir: args.dir, ownerPid: args.ownerPid, log });
      const { endpoint, region, accessKeyId, secretAccessKey, dir, confPath, pids, watchdogPid, timings, reused } = info;
      process.stdout.write(
        `${JSON.stringify({ endpoint, region, accessKeyId, secretAccessKey, dir, confPath, pids, watchdogPid, timings, reused })}\n`,
      );
      return 0;
    }
    case "env": {
      const env = clusterEnv(requireState(args.dir));
      for (const [key, value] of Object.entries(env)) process.stdout.write(`export ${key}=${shellQuote(value)}\n`);
      return 0;
    }
    case "status": {
      const info = requireState(args.dir);
      const status = await clusterStatus(info);
      process.stdout.write(`${JSON.stringify({ endpoint: info.endpoint, pids: info.pids, ...status })}\n`);
      return status.running ? 0 : 1;
    }
    case "stop":
      await stopCephCluster(args.dir, { log, keepDir: args.keepDir });
      return 0;
    default:
      throw new Error(USAGE);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`ceph-cluster: ${err.message}\n`);
      process.exit(2);
    },
  );
}
