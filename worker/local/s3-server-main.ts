/**
 * The local S3 server (s3rver) as a child process of the supervisor. s3rver's file store has no error
 * handler for some legal keys (a 1,000-character key without '/' raises ENAMETOOLONG outside any
 * request), which ends the process that runs it; here that is this child, which the supervisor restarts.
 *
 * Configured by LOCAL_S3_DIRECTORY, LOCAL_S3_PORT and LOCAL_S3_BUCKETS (comma-separated). Talks to the
 * supervisor over the IPC channel: { type: "listening" } once it serves, then { type: "event", record } for
 * each bucket event, with the object's modification time as `eventTime` in the precision this server
 * reports it (whole seconds), which is what Ceph RGW does too (its eventTime is the object's mtime). An
 * event is sent once the object is completely written (see modificationTime).
 */
import S3rver from "s3rver";
import { sleep } from "../src/backoff";
import type { S3rverRecord } from "./s3";

interface Store {
  getMetadata(bucket: string, key: string): Promise<Record<string, string>>;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

/**
 * The object's modification time once its content is completely on disk. s3rver emits the event (and
 * answers the upload) when it has handed the body to the file, not when the file is written: a large
 * object's file is still growing, and its mtime still moving, for a moment after.
 */
async function modificationTime(store: Store, bucket: string, key: string, size: number | undefined): Promise<string | undefined> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const metadata = await store.getMetadata(bucket, key);
      if (size === undefined || Number(metadata["content-length"]) === size || Date.now() > deadline)
        return new Date(metadata["last-modified"]).toISOString();
    } catch {
      return undefined; // deleted or replaced meanwhile: the event goes out without it
    }
    await sleep(20);
  }
}

async function main(): Promise<void> {
  if (!process.send) throw new Error("s3-server-main runs as a child of the local supervisor (with an IPC channel)");
  const server = new S3rver({
    address: "127.0.0.1",
    port: Number(required("LOCAL_S3_PORT")),
    directory: required("LOCAL_S3_DIRECTORY"),
    silent: true,
    vhostBuckets: false,
    configureBuckets: required("LOCAL_S3_BUCKETS")
      .split(",")
      .map((name) => ({ name })),
  });
  const store = (server as unknown as { store: Store }).store;
  server.on("event", (event: { Records: S3rverRecord[] }) => {
    for (const record of event.Records) {
      void modificationTime(store, record.s3.bucket.name, record.s3.object.key, record.s3.object.size).then((eventTime) =>
        process.send?.({ type: "event", record: { ...record, eventTime: eventTime ?? record.eventTime } }),
      );
    }
  });
  await server.run();
  process.send({ type: "listening" });
  const stop = (): void => {
    void server.close().finally(() => process.exit(0));
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  // The supervisor is gone (the reaper also kills this process; this is the faster path).
  process.on("disconnect", () => process.exit(0));
}

main().catch((err: unknown) => {
  process.stderr.write(`local S3 server failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
