/**
 * The local S3 server: s3rver in a child process (s3-server-main.ts), supervised and restarted after a
 * crash. It can be stopped and started again on the same port and directory to simulate an outage, or
 * frozen with SIGSTOP to simulate a server that accepts connections and never answers. Object-created
 * events reach onEvent in s3rver's (AWS) format, key not encoded.
 */
import fs from "node:fs";
import path from "node:path";
import { NODE_CHILD_ENV, nodeScriptArgs } from "./node-entry";
import { SupervisedProcess, type SupervisorEvent } from "./supervised-process";

export interface S3rverRecord {
  eventName: string;
  /** The object's modification time (ISO 8601), as the local server lists it. */
  eventTime?: string;
  s3: { bucket: { name: string }; object: { key: string; size?: number; eTag?: string; sequencer?: string } };
}

export interface LocalS3Options {
  readonly directory: string;
  readonly port: number;
  readonly buckets: readonly string[];
  readonly onEvent?: (record: S3rverRecord) => void;
  /** stdout and stderr of the server process. */
  readonly logFile: string;
  readonly onSupervisorEvent?: (event: SupervisorEvent) => void;
}

/** s3rver's fixed credentials. */
export const LOCAL_S3_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

const READY_TIMEOUT_MS = 60_000;

interface EventWaiter {
  readonly bucket: string;
  readonly key: string;
  readonly eTag: string;
  readonly resolve: () => void;
}

export class LocalS3 {
  readonly process: SupervisedProcess;
  private onListening?: () => void;
  private readonly waiters = new Set<EventWaiter>();

  constructor(readonly options: LocalS3Options) {
    this.process = new SupervisedProcess({
      name: "s3",
      command: process.execPath,
      args: () => nodeScriptArgs(__dirname, "s3-server-main"),
      env: () => ({
        ...process.env,
        ...NODE_CHILD_ENV,
        LOCAL_S3_DIRECTORY: options.directory,
        LOCAL_S3_PORT: String(options.port),
        LOCAL_S3_BUCKETS: options.buckets.join(","),
      }),
      cwd: path.resolve(__dirname, "..", ".."),
      output: { file: options.logFile },
      onMessage: (m) => {
        const message = m as { type?: string; record?: S3rverRecord };
        if (message.type === "listening") this.onListening?.();
        else if (message.type === "event" && message.record) {
          try {
            options.onEvent?.(message.record);
          } catch {
            // a failing event consumer must not stop the server
          }
          this.settleWaiters(message.record);
        }
      },
      ready: (child) => this.waitListening(child),
      onEvent: options.onSupervisorEvent,
    });
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  get running(): boolean {
    return this.process.running;
  }

  /** Running and past its readiness check. */
  get ready(): boolean {
    return this.process.ready;
  }

  private waitListening(child: SupervisedProcess): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => finish(new Error(`local S3 server not listening within ${READY_TIMEOUT_MS} ms; see ${this.options.logFile}`)),
        READY_TIMEOUT_MS,
      );
      const finish = (err?: Error): void => {
        clearTimeout(timer);
        this.onListening = undefined;
        if (err) reject(err);
        else resolve();
      };
      this.onListening = () => finish();
      void child.exited().then(() => finish(new Error(`local S3 server exited during start-up; see ${this.options.logFile}`)));
    });
  }

  private settleWaiters(record: S3rverRecord): void {
    const { bucket, object } = record.s3;
    for (const w of this.waiters) {
      if (w.bucket === bucket.name && w.key === object.key && w.eTag === object.eTag) {
        this.waiters.delete(w);
        w.resolve();
      }
    }
  }

  /**
   * Resolves when the server has reported the object-created event of this object version. Events travel
   * over the IPC channel and may arrive after the upload's response; an upload that waits for its event
   * hands it to onEvent before it returns, as RGW publishes a synchronous notification before it answers.
   */
  waitForEvent(bucket: string, key: string, eTag: string, timeoutMs = 30_000): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(
          new Error(
            `no event from the local S3 server for ${bucket}/${key} (eTag ${eTag}) within ${timeoutMs} ms; see ${this.options.logFile}`,
          ),
        );
      }, timeoutMs);
      const waiter: EventWaiter = {
        bucket,
        key,
        eTag,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.add(waiter);
    });
  }

  async start(): Promise<void> {
    fs.mkdirSync(this.options.directory, { recursive: true });
    await this.process.start();
  }

  /** Stops serving at once (an outage, not a drain); no restart until start(). */
  async stop(): Promise<void> {
    await this.process.stop("SIGKILL");
  }

  /** SIGSTOP freezes the server (connections are still accepted by the kernel), SIGCONT thaws it; SIGKILL is a crash. */
  signal(sig: NodeJS.Signals): void {
    this.process.signal(sig);
  }
}
