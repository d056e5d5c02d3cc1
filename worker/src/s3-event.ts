/**
 * Parses S3 bucket-notification bodies from Ceph RGW and from AWS/MinIO.
 *
 * The two differ in ways that matter:
 * - Ceph RGW (eventSource "ceph:s3") sends the object key as stored, NOT URL-encoded, and
 *   eventName without the "s3:" prefix; the topic's OpaqueData arrives as record.opaqueData.
 * - AWS and MinIO (eventSource "aws:s3" / "minio:s3") URL-encode the key with '+' for a space,
 *   so a literal '+' arrives as %2B and '%' as %25.
 * Decoding a Ceph key would corrupt keys containing '+' or '%', hence detection by eventSource.
 */

export type EventOrigin = "ceph" | "aws";

export interface NotificationRecord {
  readonly origin: EventOrigin;
  /** Event name without the "s3:" prefix, e.g. "ObjectCreated:Put". */
  readonly eventName: string;
  readonly bucket: string;
  /** The decoded object key, exactly as stored. */
  readonly key: string;
  /** ETag without quotes; undefined for events that carry none (e.g. removals). */
  readonly eTag?: string;
  readonly size?: number;
  readonly sequencer?: string;
  /**
   * When the event happened, to the millisecond. Ceph RGW sends the object's modification time (the
   * mtime its listings report as LastModified); AWS and MinIO the time the request completed.
   */
  readonly eventTime?: Date;
  readonly opaqueData?: string;
}

export class NotificationFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotificationFormatError";
  }
}

export function isObjectCreated(record: NotificationRecord): boolean {
  return record.eventName.startsWith("ObjectCreated:");
}

/** "a%20b+c" -> "a b c" (AWS/MinIO form encoding: '+' is a space, %XX is a byte of UTF-8). */
export function decodeAwsKey(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, " "));
}

/** The inverse of decodeAwsKey, as AWS produces it: used by tests and the local forwarder. */
export function encodeAwsKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, "+");
}

export function stripETagQuotes(eTag: string): string {
  return eTag.replace(/^"(.*)"$/, "$1");
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** S3's limit on key length, in bytes of UTF-8. */
export const MAX_KEY_BYTES = 1024;

/** An ISO 8601 time; Ceph RGW sends microseconds, which are cut to milliseconds. */
function parseEventTime(value: unknown, index: number): Date | undefined {
  if (value === undefined) return undefined;
  const time = typeof value === "string" && /^\d{4}-\d{2}-\d{2}T/.test(value) ? new Date(value) : undefined;
  if (!time || Number.isNaN(time.getTime()))
    throw new NotificationFormatError(`Records[${index}].eventTime must be an ISO 8601 time, got ${JSON.stringify(value)}`);
  return time;
}

function originOf(eventSource: unknown, index: number): EventOrigin {
  if (eventSource === "ceph:s3") return "ceph";
  if (eventSource === "aws:s3" || eventSource === "minio:s3") return "aws";
  throw new NotificationFormatError(
    `Records[${index}].eventSource must be "ceph:s3", "aws:s3" or "minio:s3", got ${JSON.stringify(eventSource)}`,
  );
}

/**
 * Validates and normalises a parsed JSON body. Returns [] for S3 test events. Throws
 * NotificationFormatError naming the offending field when the body is not a notification.
 */
export function parseNotification(body: unknown): NotificationRecord[] {
  if (!isObject(body)) throw new NotificationFormatError("body must be a JSON object with a Records array");
  if (body.Records === undefined && typeof body.Event === "string" && body.Event.endsWith("TestEvent")) return [];
  if (!Array.isArray(body.Records)) throw new NotificationFormatError("body.Records must be an array of S3 event records");
  return body.Records.map((raw, i): NotificationRecord => {
    if (!isObject(raw)) throw new NotificationFormatError(`Records[${i}] must be an object`);
    const origin = originOf(raw.eventSource, i);
    if (typeof raw.eventName !== "string" || raw.eventName === "")
      throw new NotificationFormatError(`Records[${i}].eventName must be a non-empty string`);
    const s3 = raw.s3;
    if (!isObject(s3) || !isObject(s3.bucket) || !isObject(s3.object))
      throw new NotificationFormatError(`Records[${i}].s3 must contain bucket and object objects`);
    const bucket = s3.bucket.name;
    if (typeof bucket !== "string" || bucket === "")
      throw new NotificationFormatError(`Records[${i}].s3.bucket.name must be a non-empty string`);
    const rawKey = s3.object.key;
    if (typeof rawKey !== "string" || rawKey === "")
      throw new NotificationFormatError(`Records[${i}].s3.object.key must be a non-empty string`);
    let key = rawKey;
    if (origin === "aws") {
      try {
        key = decodeAwsKey(rawKey);
      } catch {
        throw new NotificationFormatError(
          `Records[${i}].s3.object.key ${JSON.stringify(rawKey)} is not valid URL encoding (eventSource ${String(raw.eventSource)} sends encoded keys)`,
        );
      }
    }
    // A NUL cannot be stored in PostgreSQL text, and S3 refuses keys longer than 1,024 bytes: such a
    // record names no object the pipeline could read.
    if (key.includes("\u0000")) throw new NotificationFormatError(`Records[${i}].s3.object.key contains a NUL character`);
    const keyBytes = Buffer.byteLength(key, "utf8");
    if (keyBytes > MAX_KEY_BYTES)
      throw new NotificationFormatError(`Records[${i}].s3.object.key is ${keyBytes} bytes long; S3 keys have at most ${MAX_KEY_BYTES}`);
    const eTagRaw = s3.object.eTag ?? s3.object.etag;
    if (eTagRaw !== undefined && typeof eTagRaw !== "string")
      throw new NotificationFormatError(`Records[${i}].s3.object.eTag must be a string`);
    const eTag = eTagRaw ? stripETagQuotes(eTagRaw) : undefined;
    // Ceph's documentation shows size as a string ("1024"), RGW sends a number; accept both.
    const sizeField = s3.object.size;
    const sizeRaw = typeof sizeField === "string" && /^\d+$/.test(sizeField) ? Number(sizeField) : sizeField;
    if (sizeRaw !== undefined && (typeof sizeRaw !== "number" || !Number.isSafeInteger(sizeRaw) || sizeRaw < 0)) {
      throw new NotificationFormatError(`Records[${i}].s3.object.size must be a non-negative integer, got ${JSON.stringify(sizeField)}`);
    }
    const opaque = raw.opaqueData;
    return {
      origin,
      eventName: raw.eventName.replace(/^s3:/, ""),
      bucket,
      key,
      eTag,
      size: sizeRaw,
      sequencer: typeof s3.object.sequencer === "string" ? s3.object.sequencer : undefined,
      eventTime: parseEventTime(raw.eventTime, i),
      opaqueData: typeof opaque === "string" ? opaque : undefined,
    };
  });
}
