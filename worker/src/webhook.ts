/**
 * POST /notify: the receiving end of a Ceph RGW (or AWS/MinIO) bucket-notification topic.
 *
 * Answers 200 only after every accepted record is stored in the queue, and 503 when the database
 * is unavailable (or its schema not yet migrated), so a persistent Ceph topic keeps the event and
 * retries. A wrong secret is 401 (not a silent 200): a misconfigured topic shows up as failed
 * deliveries instead of lost work. So is a notification older than NOTIFICATION_MAX_AGE_SECONDS
 * (a replay). Anything that is not a notification gets a 4xx naming the problem, never a 500.
 */
import type http from "node:http";
import type { Logger } from "pino";
import { isUnsafeKey, keyMatchesFilter, type WorkerConfig } from "./config";
import { isConnectionError } from "./db/pool";
import { sendJson, type RouteHandler } from "./http-server";
import type { WebhookMetrics } from "./metrics";
import type { JobQueue, ObjectVersion } from "./queue";
import { NotificationFormatError, isObjectCreated, parseNotification, type NotificationRecord } from "./s3-event";
import type { SchemaGate } from "./schema-gate";
import { bearerToken, secretMatches } from "./secret";

export type WebhookConfig = Pick<
  WorkerConfig,
  "inputBucket" | "webhookSecret" | "keyPrefixFilter" | "keySuffixFilter" | "maxBodyBytes" | "notificationMaxAgeSeconds"
>;

export type IgnoreReason = "ignored_event" | "ignored_bucket" | "ignored_key" | "ignored_unsafe_key";

export interface ClassifiedRecords {
  readonly accepted: ObjectVersion[];
  readonly ignored: { key: string; bucket: string; reason: IgnoreReason; eventName: string }[];
}

/**
 * Splits records into input versions to enqueue and records ignored by event type, bucket, key filter,
 * or an unsafe key ("." or ".." path segments, see isUnsafeKey).
 */
export function classifyRecords(
  records: readonly NotificationRecord[],
  cfg: Pick<WebhookConfig, "inputBucket" | "keyPrefixFilter" | "keySuffixFilter">,
): ClassifiedRecords {
  const accepted: ObjectVersion[] = [];
  const ignored: ClassifiedRecords["ignored"] = [];
  records.forEach((r, i) => {
    const reason: IgnoreReason | undefined = !isObjectCreated(r)
      ? "ignored_event"
      : r.bucket !== cfg.inputBucket
        ? "ignored_bucket"
        : !keyMatchesFilter(r.key, cfg)
          ? "ignored_key"
          : isUnsafeKey(r.key)
            ? "ignored_unsafe_key"
            : undefined;
    if (reason) {
      ignored.push({ key: r.key, bucket: r.bucket, reason, eventName: r.eventName });
      return;
    }
    if (!r.eTag)
      throw new NotificationFormatError(
        `Records[${i}].s3.object.eTag is required for ${r.eventName} events (it identifies the object version)`,
      );
    if (!r.eventTime)
      throw new NotificationFormatError(
        `Records[${i}].eventTime is required for ${r.eventName} events (with the eTag, it identifies the object version)`,
      );
    accepted.push({ bucket: r.bucket, key: r.key, eTag: r.eTag, mtime: r.eventTime, size: r.size ?? null });
  });
  return { accepted, ignored };
}

class BodyTooLarge extends Error {}

/** Past the limit, the rest of a body is read and discarded up to this much more, so the sender gets its 413. */
const DISCARD_LIMIT_BYTES = 64 * 1024 * 1024;
const DISCARD_LIMIT_MS = 10_000;

/**
 * Reads the body up to `limit` bytes. A larger body is read to its end and discarded before this rejects:
 * answering while the sender is still sending makes Node close the connection under it (when the request
 * asked for "Connection: close"), and the sender then sees EPIPE or a reset instead of the 413. A body that
 * goes on beyond DISCARD_LIMIT_BYTES or DISCARD_LIMIT_MS is cut off.
 */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let tooLarge = false;
    let timer: NodeJS.Timeout | undefined;
    const finishTooLarge = (): void => {
      clearTimeout(timer);
      req.off("data", onData);
      reject(new BodyTooLarge());
    };
    const onData = (chunk: Buffer): void => {
      total += chunk.length;
      if (total <= limit) {
        chunks.push(chunk);
        return;
      }
      if (!tooLarge) {
        tooLarge = true;
        chunks.length = 0;
        timer = setTimeout(finishTooLarge, DISCARD_LIMIT_MS);
      }
      if (total > limit + DISCARD_LIMIT_BYTES) finishTooLarge();
    };
    req.on("data", onData);
    req.on("end", () => (tooLarge ? finishTooLarge() : resolve(Buffer.concat(chunks))));
    req.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** RGW sends no content type; AWS-style senders send application/json (maybe with a charset). */
function acceptableContentType(header: string | undefined): boolean {
  if (header === undefined || header.trim() === "") return true;
  return header.split(";")[0].trim().toLowerCase() === "application/json";
}

const isJsonObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export interface NotifyHandlerDeps {
  readonly queue: JobQueue;
  readonly config: WebhookConfig;
  readonly metrics: WebhookMetrics;
  readonly logger: Logger;
  /** Notifications are refused (503, so the topic retries) until the database schema is verified. */
  readonly schema?: SchemaGate;
  /** The clock the replay window is measured with (tests). */
  readonly now?: () => number;
}

export function createNotifyHandler({ queue, config, metrics, logger, schema, now = Date.now }: NotifyHandlerDeps): RouteHandler {
  const reply = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    status: number,
    outcome: string,
    body: Record<string, unknown>,
    headers: http.OutgoingHttpHeaders = {},
  ): void => {
    metrics.notifications.inc({ outcome });
    sendJson(res, status, body, headers);
    // A body not read (an early 415 or 503) is discarded.
    req.resume();
  };

  return async (req, res) => {
    if (schema && !(await schema.check())) {
      reply(req, res, 503, "unavailable", { error: `not ready: ${schema.problem}` }, { "retry-after": "5" });
      return;
    }
    if (!acceptableContentType(req.headers["content-type"])) {
      reply(req, res, 415, "unsupported_media_type", {
        error: `content-type ${JSON.stringify(req.headers["content-type"])} is not accepted; send application/json (or none, as RGW does)`,
      });
      return;
    }

    let raw: Buffer;
    try {
      raw = await readBody(req, config.maxBodyBytes);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        reply(req, res, 413, "too_large", { error: `body exceeds MAX_BODY_BYTES=${config.maxBodyBytes}` });
        return;
      }
      throw err;
    }

    let json: unknown;
    try {
      json = JSON.parse(raw.toString("utf8"));
    } catch (err) {
      reply(req, res, 400, "malformed", { error: `body is not valid JSON: ${(err as Error).message}` });
      return;
    }
    if (!isJsonObject(json)) {
      reply(req, res, 400, "malformed", { error: "body must be a JSON object with a Records array" });
      return;
    }

    // Authenticate before interpreting: every record must carry the topic's OpaqueData, unless the
    // sender (MinIO) authenticates the whole request with a bearer token. An S3 test event carries no
    // records, so it needs the bearer token too.
    const bearer = bearerToken(req.headers.authorization);
    const records = json.Records;
    const recordSecrets = Array.isArray(records) ? records.map((r) => (isJsonObject(r) ? r.opaqueData : undefined)) : [];
    const authorised =
      bearer !== undefined
        ? secretMatches(bearer, config.webhookSecret)
        : recordSecrets.length > 0 && recordSecrets.every((s) => typeof s === "string" && secretMatches(s, config.webhookSecret));
    if (!authorised) {
      logger.warn({ remote: req.socket.remoteAddress }, "notification rejected: OpaqueData/bearer secret does not match WEBHOOK_SECRET");
      reply(req, res, 401, "unauthorized", { error: "secret mismatch: set the topic's OpaqueData to WEBHOOK_SECRET" });
      return;
    }

    let parsed: NotificationRecord[];
    let classified: ClassifiedRecords;
    try {
      parsed = parseNotification(json);
      classified = classifyRecords(parsed, config);
    } catch (err) {
      if (err instanceof NotificationFormatError) {
        reply(req, res, 400, "malformed", { error: err.message });
        return;
      }
      throw err;
    }

    const oldest = now() - config.notificationMaxAgeSeconds * 1000;
    const replayed = parsed.find((r) => r.eventTime !== undefined && r.eventTime.getTime() < oldest);
    if (replayed) {
      logger.warn(
        { remote: req.socket.remoteAddress, key: replayed.key, eventTime: replayed.eventTime },
        "notification rejected: older than NOTIFICATION_MAX_AGE_SECONDS (a replay)",
      );
      reply(req, res, 401, "replayed", {
        error: `eventTime ${replayed.eventTime?.toISOString()} is older than NOTIFICATION_MAX_AGE_SECONDS=${config.notificationMaxAgeSeconds}`,
      });
      return;
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
      reply(req, res, 200, "stored", {
        stored: inserted,
        duplicates,
        ignored: classified.ignored.map(({ key, reason }) => ({ key, reason })),
      });
    } catch (err) {
      if (!isConnectionError(err)) throw err;
      logger.warn({ err }, "database unavailable; asking the sender to retry");
      reply(req, res, 503, "unavailable", { error: "queue database unavailable; retry later" }, { "retry-after": "5" });
    }
  };
}
