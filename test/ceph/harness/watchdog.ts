/**
 * Stops a test cluster when the process that owns it dies without tearing it down
 * (a test runner killed by Ctrl-C, a CI timeout). Started detached by startCephCluster({ ownerPid }).
 * Usage: node -r ts-node/register/transpile-only watchdog.ts <cluster dir> <owner pid>
 */
import { readClusterState, stopCephCluster } from "./cluster";
import { isAlive, sleep } from "./processes";

async function main(): Promise<void> {
  const [dir, ownerArg] = process.argv.slice(2);
  const ownerPid = Number(ownerArg);
  if (!dir || !Number.isInteger(ownerPid) || ownerPid <= 0) {
    throw new Error("usage: watchdog.ts <cluster dir> <owner pid>");
  }
  for (;;) {
    await sleep(1000);
    const state = readClusterState(dir);
    // Stopped (or replaced) by someone else: nothing left to guard.
    if (!state || (state.watchdogPid !== undefined && state.watchdogPid !== process.pid)) return;
    if (!isAlive(ownerPid)) {
      await stopCephCluster(dir, { calledFromWatchdog: true, graceMs: 3000 });
      return;
    }
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`ceph watchdog: ${err.message}\n`);
    process.exit(1);
  },
);
