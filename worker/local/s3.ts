/**
 * A local S3 server (s3rver) that can be stopped and restarted on the same port and directory, to
 * simulate an object store outage. Object-created events are handed to onEvent (AWS format, key not
 * encoded, as s3rver emits them).
 */
import fs from "node:fs";
import type http from "node:http";
import S3rver from "s3rver";

export interface S3rverRecord {
  eventName: string;
  s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string; sequencer?: string } };
}

export interface LocalS3Options {
  readonly directory: string;
  readonly port: number;
  readonly buckets: readonly string[];
  readonly onEvent?: (record: S3rverRecord) => void;
}

/** s3rver's fixed credentials. */
export const LOCAL_S3_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

export class LocalS3 {
  private server?: S3rver;
  private http?: http.Server;

  constructor(readonly options: LocalS3Options) {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  async start(): Promise<void> {
    if (this.server) return;
    fs.mkdirSync(this.options.directory, { recursive: true });
    const server = new S3rver({
      address: "127.0.0.1",
      port: this.options.port,
      directory: this.options.directory,
      silent: true,
      vhostBuckets: false,
      configureBuckets: this.options.buckets.map((name) => ({ name })),
    });
    server.on("event", (event: { Records: S3rverRecord[] }) => {
      for (const r of event.Records) this.options.onEvent?.(r);
    });
    await server.run();
    this.server = server;
    this.http = (server as unknown as { httpServer: http.Server }).httpServer;
  }

  /** Stops serving at once, cutting keep-alive connections (an outage, not a drain). */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    const closing = server.close();
    this.http?.closeAllConnections();
    await closing;
  }
}
