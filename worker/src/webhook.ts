/**
 * POST /notify: the receiving end of a Ceph RGW (or AWS/MinIO) bucket-notification topic.
 *
 * Answers 200 only after every accepted record is stored in the queue, and 503 when the database
 * is unavailable, so a persistent Ceph topic keeps the event and retries. A wrong secret is 401
 * (not a silent 200): a misconfigured topic shows up as failed deliveries instead of lost work.
 */
import type http from "node:http";
import type { Logger } from "pino";
import { keyMatchesFilter, type WorkerConfig } from "./config";
import { isConnectionError } from "./db/pool";
import { sendJson, type RouteHandler } from "./http-server";
import type { WebhookMetrics } from "./metrics";
import type { JobQueue, ObjectVersion } from "./queue";
import { NotificationFormatError, isObjectCreated, parseNotification, type NotificationRecord } from "./s3-event";
import { bearerToken, secretMatches } from "./secret";

export type WebhookConfig = Pick<WorkerConfig, "inputBucket" | "webhookSecret" | "keyPrefixFilter" | "keySuffixFilter" | "maxBodyBytes">;

export type IgnoreReason = "ignored_event" | "ignored_bucket" | "ignored_key";

export interface ClassifiedRecords {
  readonly accepted: ObjectVersion[];
  readonly ignored: { key: string; bucket: string; reason: IgnoreReason; eventName: string }[];
}

/** Splits records into object versions to enqueue and records ignored by event type, bucket or key filter. */
export function classifyRecords(records: readonly NotificationRecord[], cfg: WebhookConfig): ClassifiedRecords {
  const accepted: ObjectVersion[] = [];
  const ignored: ClassifiedRecords["ignored"] = [];
  records.forEach((r, i) => {
    const reason: IgnoreReason | undefined = !isObjectCreated(r)
      ? "ignored_event"
      : r.bucket !== cfg.inputBucket
        ? "ignored_bucket"
        : !keyMatchesFilter(r.key, cfg)
          ? "ignored_key"
          : undefined;
    if (reason) {
      ignored.push({ key: r.key, bucket: r.bucket, reason, eventName: r.eventName });
      return;
    }
    if (!r.eTag)
      throw new NotificationFormatError(
        `Records[${i}].s3.object.eTag is required for ${r.eventName} events (it identifies the object version)`,
      );
    accepted.push({ bucket: r.bucket, key: r.key, eTag: r.eTag, size: r.size ?? null });
  });
  return { accepted, ignored };
}

class BodyTooLarge extends Error {}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) return reject(new BodyTooLarge());
    const chunks: Buffer[] = [];
    let total = 0;
    req.on("data", (chunk: Buffer) => {
      total += chunk.length;
      if (total > limit) {
        req.removeAllListeners("data");
        reject(new BodyTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export interface NotifyHandlerDeps {
  readonly queue: JobQueue;
  readonly config: WebhookConfig;
  readonly metrics: WebhookMetrics;
  readonly logger: Logger;
}

export function createNotifyHandler({ queue, config, metrics, logger }: NotifyHandlerDeps): RouteHandler {
  const reply = (
    res: http.ServerResponse,
    status: number,
    outcome: string,
    body: Record<string, unknown>,
    headers: http.OutgoingHttpHeaders = {},
  ): void => {
    metrics.notifications.inc({ outcome });
    sendJson(res, status, body, headers);
  };

  return async (req, res) => {
    let raw: Buffer;
    try {
      raw = await readBody(req, config.maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        reply(res, 413, "too_large", { error: `body exceeds MAX_BODY_BYTES=${config.maxBodyBytes}` }, { connection: "close" });
        req.resume();
        return;
      }
      throw err;
    }

    let json: unknown;
    try {
      json = JSON.parse(raw.toString("utf8"));
    } catch (err) {
      reply(res, 400, "malformed", { error: `body is not valid JSON: ${(err as Error).message}` });
      return;
    }

    // Authenticate before interpreting: every record must carry the topic's OpaqueData, unless the
    // sender (MinIO) authenticates the whole request with a bearer token.
    const bearer = bearerToken(req.headers.authorization);
    const records = (json as { Records?: unknown }).Records;
    const recordSecrets = Array.isArray(records) ? records.map((r) => (r as { opaqueData?: unknown } | null)?.opaqueData) : [];
    const authorised =
      bearer !== undefined
        ? secretMatches(bearer, config.webhookSecret)
        : recordSecrets.length > 0 && recordSecrets.every((s) => typeof s === "string" && secretMatches(s, config.webhookSecret));
    const isTestEvent = !Array.isArray(records) && typeof (json as { Event?: unknown })?.Event === "string";
    if (!authorised && !isTestEvent) {
      logger.warn({ remote: req.socket.remoteAddress }, "notification rejected: OpaqueData/bearer secret does not match WEBHOOK_SECRET");
      reply(res, 401, "unauthorized", { error: "secret mismatch: set the topic's OpaqueData to WEBHOOK_SECRET" });
      return;
    }

    let classified: ClassifiedRecords;
    try {
      classified = classifyRecords(parseNotification(json), config);
    } catch (err) {
      if (err instanceof NotificationFormatError) {
        reply(res, 400, "malformed", { error: err.message });
        return;
      }
      throw err;
    }

    for (const i of classified.ignored) metrics.records.inc({ outcome: i.reason });
    if (classified.ignored.length > 0) logger.debug({ ignored: classified.ignored }, "notification records ignored");

    try {
      const { inserted, duplicates } = await queue.enqueue(classified.accepted, "notification");
      metrics.records.inc({ outcome: "stored" }, inserted);
      metrics.records.inc({ outcome: "duplicate" }, duplicates);
      logger.info(
        { stored: inserted, duplicates, ignored: classified.ignored.length, keys: classified.accepted.map((a) => a.key) },
        "notification stored",
      );
      reply(res, 200, "stored", { stored: inserted, duplicates, ignored: classified.ignored.map(({ key, reason }) => ({ key, reason })) });
    } catch (err) {
      if (!isConnectionError(err)) throw err;
      logger.warn({ err: (err as Error).message }, "database unavailable; asking the sender to retry");
      reply(res, 503, "unavailable", { error: "queue database unavailable; retry later" }, { "retry-after": "5" });
    }
  };
}
