/**
 * Replays RGW responses recorded by `test/data/rgw/record.ts` from a real radosgw, over real HTTP on 127.0.0.1.
 * It answers each request with the next recorded response, after checking that the request is the same SNS
 * action the recording was made for, and keeps what it received (form fields and headers) for assertions.
 */
import * as fs from "fs";
import * as http from "http";
import * as path from "path";

export interface RecordedExchange {
  request: { method: string; path: string; form: Record<string, string> };
  response: { status: number; contentType: string; body: string };
}

export interface Recording {
  rgwVersion: string;
  recordedAt: string;
  exchanges: RecordedExchange[];
}

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  form: Record<string, string>;
}

export const FIXTURE_DIR = path.resolve(__dirname, "../rgw");

export function loadRecording(name: string): Recording {
  return JSON.parse(fs.readFileSync(path.join(FIXTURE_DIR, `${name}.json`), "utf8")) as Recording;
}

export class RgwReplayServer {
  readonly received: ReceivedRequest[] = [];
  private queue: RecordedExchange[] = [];
  private server?: http.Server;
  endpoint = "";

  /** Queues the exchanges of the named recordings, in order. */
  play(...names: string[]): this {
    for (const name of names) this.queue.push(...loadRecording(name).exchanges);
    return this;
  }

  get pending(): number {
    return this.queue.length;
  }

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString("utf8")));
        this.received.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, form });
        const next = this.queue.shift();
        if (!next || next.request.form.Action !== form.Action) {
          // A 599 no client retries on would hide the mistake; 400 with a readable body surfaces it in the test.
          res.writeHead(400, { "content-type": "text/plain" });
          res.end(`replay: unexpected ${form.Action ?? "request"}; next recorded action is ${next?.request.form.Action ?? "none"}`);
          return;
        }
        res.writeHead(next.response.status, { "content-type": next.response.contentType });
        res.end(next.response.body);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  async stop(): Promise<void> {
    if (this.server) await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}
