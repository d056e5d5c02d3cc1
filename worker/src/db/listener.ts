import { Client } from "pg";
import type { Logger } from "pino";
import { backoffDelayMs, type Backoff } from "../backoff";

const RECONNECT_BACKOFF: Backoff = { initialMs: 250, maxMs: 5_000 };

/**
 * Holds one dedicated connection that LISTENs on a channel and calls onNotify for each
 * notification. The connection is re-established after a database restart, and onNotify is also
 * called on every (re)connect because notifications sent while disconnected are lost.
 */
export class NotificationListener {
  private client?: Client;
  private stopped = false;
  private retryTimer?: NodeJS.Timeout;
  /** Reconnects since the last good connection; the next waits backoffDelayMs of it. */
  private reconnects = 0;

  constructor(
    private readonly databaseUrl: string,
    private readonly channel: string,
    private readonly onNotify: () => void,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new Client({
      connectionString: this.databaseUrl,
      keepAlive: true,
      connectionTimeoutMillis: 5_000,
      application_name: "image-pipeline-listener",
    });
    client.on("notification", (msg) => {
      if (msg.channel === this.channel) this.onNotify();
    });
    const lost = (err?: Error): void => {
      if (this.client !== client) return;
      this.client = undefined;
      client.removeAllListeners("end");
      client.end().catch(() => undefined);
      if (!this.stopped) {
        this.logger.warn({ err }, "notification listener disconnected; reconnecting");
        this.scheduleReconnect();
      }
    };
    client.on("error", (err) => lost(err));
    client.on("end", () => lost());
    try {
      await client.connect();
      await client.query(`LISTEN ${this.channel}`);
    } catch (err) {
      client.removeAllListeners("end");
      await client.end().catch(() => undefined);
      this.logger.warn({ err }, "notification listener could not connect; retrying");
      this.scheduleReconnect();
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.reconnects = 0;
    this.onNotify();
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(
      () => {
        this.retryTimer = undefined;
        void this.connect();
      },
      backoffDelayMs(this.reconnects++, RECONNECT_BACKOFF),
    );
  }

  get connected(): boolean {
    return this.client !== undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    if (client) {
      client.removeAllListeners("end");
      await client.end().catch(() => undefined);
    }
  }
}
