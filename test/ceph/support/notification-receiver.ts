/**
 * A real HTTP endpoint on loopback that records every notification RGW pushes to it,
 * answering with a status the test chooses (to simulate a failing webhook).
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedPush {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  status: number;
  receivedAt: number;
}

export interface CephEventRecord {
  eventVersion: string;
  eventSource: string;
  eventName: string;
  eventTime: string;
  opaqueData?: string;
  s3: {
    configurationId: string;
    bucket: { name: string };
    object: { key: string; size: number; eTag: string; sequencer: string };
  };
}

export class NotificationReceiver {
  readonly pushes: ReceivedPush[] = [];
  /** Status for the next answers; a function lets a test fail the first N pushes. */
  respondWith: number | ((push: Omit<ReceivedPush, "status">, index: number) => number) = 200;
  private server?: http.Server;

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // keep the raw text; the test asserts on it
        }
        const push = { path: req.url ?? "", headers: req.headers, body, receivedAt: Date.now() };
        const status = typeof this.respondWith === "function" ? this.respondWith(push, this.pushes.length) : this.respondWith;
        this.pushes.push({ ...push, status });
        res.writeHead(status, { "content-type": "text/plain" }).end(status < 300 ? "ok" : "failed");
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/notify`;
  }

  /** Records of every push answered 2xx, flattened. */
  acceptedRecords(): CephEventRecord[] {
    return this.pushes.filter((push) => push.status < 300).flatMap((push) => (push.body as { Records: CephEventRecord[] }).Records);
  }

  recordsFor(key: string): CephEventRecord[] {
    return this.acceptedRecords().filter((record) => record.s3.object.key === key);
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }
}
