/**
 * Stand-in for a Ceph RGW bucket-notification topic with an HTTP push endpoint: turns s3rver's
 * object-created events into Ceph RGW 16 records (eventSource "ceph:s3", eventName without "s3:",
 * key NOT URL-encoded, eTag without quotes, opaqueData at record level), one record per POST.
 * `persistent: true` retries failed deliveries like a persistent topic; false drops them like a
 * synchronous topic whose endpoint is down, which is what the reconciler exists for.
 */
import { randomUUID } from "node:crypto";
import type { S3rverRecord } from "./s3";

export interface CephRecord {
  eventVersion: "2.2";
  eventSource: "ceph:s3";
  awsRegion: string;
  eventTime: string;
  eventName: string;
  userIdentity: { principalId: string };
  requestParameters: { sourceIPAddress: string };
  responseElements: { "x-amz-request-id": string; "x-amz-id-2": string };
  s3: {
    s3SchemaVersion: "1.0";
    configurationId: string;
    bucket: { name: string; ownerIdentity: { principalId: string }; arn: string; id: string };
    object: { key: string; size: number; eTag: string; versionId: string; sequencer: string; metadata: unknown[]; tags: unknown[] };
  };
  eventId: string;
  opaqueData: string;
}

export interface CephObjectEvent {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  readonly eTag: string;
  readonly eventName?: string;
  /** The object's modification time, which RGW sends as eventTime; default now. */
  readonly eventTime?: string;
  readonly sequencer?: string;
}

let sequence = 0;

/**
 * A sequencer in RGW's form: the hex bytes of a utime_t (seconds and nanoseconds, 32 bits each, little-endian)
 * taken when the event is made. Unique per event; not ordered as a string.
 */
export function cephSequencer(now = Date.now()): string {
  const bytes = Buffer.alloc(8);
  bytes.writeUInt32LE(Math.floor(now / 1000), 0);
  bytes.writeUInt32LE(((now % 1000) * 1_000_000 + (sequence++ % 1_000_000)) % 1_000_000_000, 4);
  return bytes.toString("hex").toUpperCase();
}

export function cephRecord(e: CephObjectEvent, opaqueData: string, topic = "image-pipeline"): CephRecord {
  return {
    eventVersion: "2.2",
    eventSource: "ceph:s3",
    awsRegion: "default",
    eventTime: e.eventTime ?? new Date().toISOString(),
    eventName: e.eventName ?? "ObjectCreated:Put",
    userIdentity: { principalId: "local" },
    requestParameters: { sourceIPAddress: "" },
    responseElements: { "x-amz-request-id": randomUUID(), "x-amz-id-2": "local-default-default" },
    s3: {
      s3SchemaVersion: "1.0",
      configurationId: topic,
      bucket: { name: e.bucket, ownerIdentity: { principalId: "local" }, arn: `arn:aws:s3:default::${e.bucket}`, id: "local" },
      object: {
        key: e.key,
        size: e.size,
        eTag: e.eTag,
        versionId: "",
        sequencer: e.sequencer ?? cephSequencer(),
        metadata: [],
        tags: [],
      },
    },
    eventId: `${Date.now()}.${randomUUID()}`,
    opaqueData,
  };
}

export interface ForwarderOptions {
  readonly webhookUrl: string;
  readonly opaqueData: string;
  readonly persistent: boolean;
  /** Delay between retries of a persistent topic. */
  readonly retryDelayMs?: number;
  /** Give up after this long even when persistent (Ceph: the topic's time_to_live). */
  readonly timeToLiveMs?: number;
  readonly onDelivery?: (outcome: { key: string; status: number | "error"; attempt: number }) => void;
}

export class NotificationForwarder {
  private readonly inFlight = new Set<Promise<void>>();
  delivered = 0;
  dropped = 0;
  /** Retry failed deliveries (persistent topic) or drop them (synchronous topic). */
  persistent: boolean;
  /** While paused, events are dropped without delivery (a topic that lost them). */
  paused = false;

  constructor(private readonly options: ForwarderOptions) {
    this.persistent = options.persistent;
  }

  /** Handles one s3rver event; only object-created events with an eTag are forwarded. */
  handle(record: S3rverRecord): void {
    const o = record.s3.object;
    if (!record.eventName.startsWith("ObjectCreated:") || !o.eTag) return;
    if (this.paused) {
      this.dropped++;
      return;
    }
    // deliver() settles every failure itself (counted as dropped), and drain() awaits what is in flight.
    void this.forward({
      bucket: record.s3.bucket.name,
      key: o.key,
      size: o.size ?? 0,
      eTag: o.eTag,
      eventName: record.eventName,
      eventTime: record.eventTime,
    });
  }

  /** POSTs one Ceph record to the webhook (retrying if persistent). */
  forward(event: CephObjectEvent): Promise<void> {
    const p = this.deliver(cephRecord(event, this.options.opaqueData)).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
    return p;
  }

  private async deliver(record: CephRecord): Promise<void> {
    const deadline = Date.now() + (this.options.timeToLiveMs ?? 120_000);
    const body = JSON.stringify({ Records: [record] });
    for (let attempt = 1; ; attempt++) {
      let status: number | "error";
      try {
        const res = await fetch(this.options.webhookUrl, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
          signal: AbortSignal.timeout(10_000),
        });
        await res.arrayBuffer();
        status = res.status;
      } catch {
        status = "error";
      }
      this.options.onDelivery?.({ key: record.s3.object.key, status, attempt });
      if (status === 200) {
        this.delivered++;
        return;
      }
      if (!this.persistent || Date.now() > deadline) {
        this.dropped++;
        return;
      }
      await new Promise((r) => setTimeout(r, this.options.retryDelayMs ?? 500));
    }
  }

  /** Resolves when every delivery started so far has succeeded or been given up. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }
}
