/**
 * Ceph RGW notification topics over RGW's SNS-compatible API (`POST /` with `Action=CreateTopic|GetTopicAttributes|
 * DeleteTopic`, SigV4-signed like any SNS call). Plain functions, no Pulumi: the dynamic provider in
 * `topic-provider.ts` calls them, and so can the Ceph integration tests against a real RGW.
 *
 * RGW behaviours this module accounts for (checked against Ceph 16.2.15 Pacific):
 * - the topic ARN is `arn:aws:sns:<zonegroup>:<tenant>:<name>`; the zonegroup is usually `default` and the tenant
 *   empty, so the common ARN is `arn:aws:sns:default::<name>`;
 * - `persistent` is a presence flag in Pacific (any value, even "false", makes the topic persistent), so it is only
 *   ever sent when true;
 * - the attributes are stored re-joined as one `&`-separated "EndpointArgs" string and re-parsed when pushing, so an
 *   `&` or `=` inside OpaqueData or the push endpoint would corrupt the other arguments: they are rejected up front;
 * - CreateTopic on an existing name overwrites its attributes (Pacific has no SetTopicAttributes), which is how an
 *   update is done;
 * - errors come back S3-style (`<Error><Code>…`), not SNS-style (`<ErrorResponse><Error>…`), so the code is read from
 *   the raw error fields and the HTTP status rather than from the SDK's exception class.
 */
import { createHash } from "crypto";
import { Readable } from "stream";
import { CreateTopicCommand, DeleteTopicCommand, GetTopicAttributesCommand, SNSClient } from "@aws-sdk/client-sns";

/** RGW's zonegroup name doubles as the SNS region in ARNs and request signing; `default` unless the cluster renamed it. */
export const RGW_DEFAULT_REGION = "default";

export interface RgwConnection {
  /** The RGW (S3) endpoint URL; topics are served from the same endpoint as buckets. */
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

/** What the pipeline declares about its topic. */
export interface RgwTopicSpec {
  readonly name: string;
  /** Where RGW POSTs each notification: the pipeline's webhook, `http(s)://host[:port]/path`. */
  readonly pushEndpoint: string;
  /** Sent verbatim in every notification record (`opaqueData`); the webhook checks it as a shared secret. */
  readonly opaqueData: string;
  /** Persistent topics queue notifications in RADOS and retry, so an object PUT does not wait for the webhook. */
  readonly persistent: boolean;
  /** Whether RGW verifies the webhook's TLS certificate (only meaningful for https push endpoints). */
  readonly verifySsl: boolean;
}

/** A topic as RGW reports it. */
export interface RgwTopicState extends RgwTopicSpec {
  readonly arn: string;
  /** The RGW user that owns the topic. */
  readonly user: string;
}

export interface TopicArn {
  readonly partition: string;
  readonly region: string;
  readonly tenant: string;
  readonly name: string;
}

export type RgwErrorKind = "not-found" | "access-denied" | "invalid-request" | "unreachable" | "server-error" | "unexpected";

/** A failed topic call, with the RGW error code, the HTTP status and what to do about it. */
export class RgwTopicError extends Error {
  constructor(
    readonly action: string,
    readonly kind: RgwErrorKind,
    readonly code: string,
    readonly status: number | undefined,
    detail: string,
    readonly fix: string,
  ) {
    super(`RGW ${action} failed: ${detail} (${code}${status === undefined ? "" : `, HTTP ${status}`}). Fix: ${fix}`);
    this.name = "RgwTopicError";
  }
}

const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$/;
// Characters that survive RGW's unescaped `key=value&key=value` EndpointArgs round trip.
const SAFE_ARG_VALUE = /^[A-Za-z0-9._~-]+$/;

/** Problems with a spec, each naming the field; empty when valid. Checked before any request is sent. */
export function validateTopicSpec(spec: RgwTopicSpec): { property: keyof RgwTopicSpec; reason: string }[] {
  const failures: { property: keyof RgwTopicSpec; reason: string }[] = [];
  if (!TOPIC_NAME.test(spec.name ?? "")) {
    failures.push({ property: "name", reason: `topic name must be 1-256 letters, digits, "-" or "_", got "${spec.name}"` });
  }
  let url: URL | undefined;
  try {
    url = new URL(spec.pushEndpoint);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== "http:" && url.protocol !== "https:")) {
    failures.push({
      property: "pushEndpoint",
      reason: `push endpoint must be an http:// or https:// URL of the webhook, got "${spec.pushEndpoint}"`,
    });
  } else if (/[&=]/.test(spec.pushEndpoint) || url.username !== "" || url.password !== "") {
    failures.push({
      property: "pushEndpoint",
      reason: `push endpoint must not contain "&", "=" or credentials (RGW stores it in an &-separated argument list), got "${spec.pushEndpoint}"`,
    });
  }
  if (typeof spec.opaqueData !== "string" || !SAFE_ARG_VALUE.test(spec.opaqueData)) {
    failures.push({
      property: "opaqueData",
      reason: 'OpaqueData must be non-empty and contain only letters, digits, ".", "_", "~" or "-" (RGW stores it unescaped)',
    });
  }
  if (typeof spec.persistent !== "boolean")
    failures.push({ property: "persistent", reason: `must be a boolean, got ${JSON.stringify(spec.persistent)}` });
  if (typeof spec.verifySsl !== "boolean")
    failures.push({ property: "verifySsl", reason: `must be a boolean, got ${JSON.stringify(spec.verifySsl)}` });
  return failures;
}

/** The CreateTopic `Attributes` map for a spec. */
export function topicAttributes(spec: RgwTopicSpec): Record<string, string> {
  const attributes: Record<string, string> = {
    "push-endpoint": spec.pushEndpoint,
    OpaqueData: spec.opaqueData,
    "verify-ssl": String(spec.verifySsl),
  };
  // Pacific treats the mere presence of "persistent" as true.
  if (spec.persistent) attributes.persistent = "true";
  return attributes;
}

export function formatTopicArn(region: string, tenant: string, name: string): string {
  return `arn:aws:sns:${region}:${tenant}:${name}`;
}

/** Parses an RGW topic ARN; throws naming the ARN when it is not one. */
export function parseTopicArn(arn: string): TopicArn {
  const parts = typeof arn === "string" ? arn.split(":") : [];
  // arn:<partition>:sns:<region>:<tenant>:<name>; the name itself cannot contain ":" (see TOPIC_NAME).
  if (parts.length !== 6 || parts[0] !== "arn" || parts[2] !== "sns" || !TOPIC_NAME.test(parts[5])) {
    throw new Error(
      `"${arn}" is not an RGW topic ARN; expected arn:aws:sns:<zonegroup>:<tenant>:<name>, e.g. arn:aws:sns:default::image-pipeline`,
    );
  }
  return { partition: parts[1], region: parts[3], tenant: parts[4], name: parts[5] };
}

/** Splits RGW's stored `key=value&key=value` EndpointArgs. */
export function parseEndpointArgs(args: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const pair of args.split("&")) {
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    if (eq < 0) result[pair] = "";
    else result[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return result;
}

function asBoolean(value: unknown, fallback: boolean): boolean {
  if (typeof value === "boolean") return value;
  if (value === "true") return true;
  if (value === "false") return false;
  return fallback;
}

/**
 * Builds the topic state from GetTopicAttributes. RGW returns `User`, `Name`, `TopicArn`, `OpaqueData` and
 * `EndPoint`, a JSON object with EndpointAddress, EndpointArgs (what CreateTopic was given), Persistent.
 */
export function topicStateFromAttributes(attributes: Record<string, string>): RgwTopicState {
  const arn = attributes.TopicArn;
  if (!arn) throw new Error("GetTopicAttributes response has no TopicArn attribute; is the endpoint an RGW?");
  let endpoint: Record<string, unknown> = {};
  if (attributes.EndPoint) {
    try {
      endpoint = JSON.parse(attributes.EndPoint) as Record<string, unknown>;
    } catch {
      throw new Error(`GetTopicAttributes for ${arn}: EndPoint attribute is not JSON: ${attributes.EndPoint}`);
    }
  }
  const args = parseEndpointArgs(typeof endpoint.EndpointArgs === "string" ? endpoint.EndpointArgs : "");
  return {
    arn,
    name: attributes.Name ?? parseTopicArn(arn).name,
    user: attributes.User ?? "",
    pushEndpoint: typeof endpoint.EndpointAddress === "string" ? endpoint.EndpointAddress : (args["push-endpoint"] ?? ""),
    opaqueData: attributes.OpaqueData ?? args.OpaqueData ?? "",
    persistent: asBoolean(endpoint.Persistent, "persistent" in args),
    // RGW verifies certificates unless told otherwise.
    verifySsl: asBoolean(args["verify-ssl"], true),
  };
}

interface SdkErrorShape {
  name?: string;
  message?: string;
  code?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number; headers?: Record<string, string> };
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "TimeoutError",
]);

/** Classifies an SDK or network failure from a topic call into an actionable `RgwTopicError`. */
export function mapRgwError(action: string, subject: string, endpoint: string, err: unknown): RgwTopicError {
  if (err instanceof RgwTopicError) return err;
  const e = (err ?? {}) as SdkErrorShape;
  const status = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
  // RGW's S3-style error body puts the code at the top level (`Code`); the SDK's own name is a fallback.
  const code =
    e.$response?.headers?.[RGW_ERROR_CODE_HEADER] ??
    e.Code ??
    (e.code && !NETWORK_CODES.has(e.code) ? e.code : undefined) ??
    (e.name && e.name !== "Error" ? e.name : undefined) ??
    e.code ??
    "Unknown";
  const detail = `${subject}: ${e.message && e.message !== "Unknown" && e.message !== "UnknownError" ? e.message : code}`;

  if (
    NETWORK_CODES.has(code) ||
    NETWORK_CODES.has(e.code ?? "") ||
    (status === undefined && /ECONNREFUSED|ENOTFOUND|socket|network/i.test(e.message ?? ""))
  ) {
    return new RgwTopicError(
      action,
      "unreachable",
      e.code ?? code,
      undefined,
      `${subject}: cannot reach ${endpoint} (${e.message ?? code})`,
      "check the s3Endpoint config value and that this machine can reach the RGW endpoint",
    );
  }
  if (status === 404 || code === "NoSuchKey" || code === "NotFound" || code === "NoSuchEntity") {
    return new RgwTopicError(
      action,
      "not-found",
      code,
      status,
      `${subject} does not exist`,
      "run `pulumi refresh` so the state forgets the topic, then `pulumi up` re-creates it",
    );
  }
  if (
    status === 401 ||
    status === 403 ||
    ["AccessDenied", "SignatureDoesNotMatch", "InvalidAccessKeyId", "AuthorizationError"].includes(code)
  ) {
    return new RgwTopicError(
      action,
      "access-denied",
      code,
      status,
      `${subject}: the credentials were refused`,
      "check that the S3 access key and secret (s3AccessKeyId/s3SecretAccessKey, or the EC2 credential) belong to the RGW user that owns the buckets, and that s3Region matches the RGW zonegroup",
    );
  }
  if (status === 400 || ["InvalidArgument", "InvalidParameter", "InvalidParameterValue", "MalformedXML"].includes(code)) {
    return new RgwTopicError(
      action,
      "invalid-request",
      code,
      status,
      `${subject}: RGW rejected the request`,
      "check the topic name, the push endpoint URL and the OpaqueData value; the radosgw log says which argument it refused",
    );
  }
  if (status !== undefined && status >= 500) {
    return new RgwTopicError(
      action,
      "server-error",
      code,
      status,
      `${subject}: RGW failed`,
      "retry `pulumi up`; if it persists, check the radosgw log and the cluster health (`ceph -s`)",
    );
  }
  return new RgwTopicError(
    action,
    "unexpected",
    code,
    status,
    detail,
    "check that s3Endpoint points at a Ceph RGW with bucket notifications enabled",
  );
}

/** Header under which `createSnsClient` exposes the code of an S3-style RGW error body to `mapRgwError`. */
export const RGW_ERROR_CODE_HEADER = "x-image-pipeline-rgw-error-code";

/** The `<Code>` of an error body, SNS-style (`<ErrorResponse><Error><Code>`) or S3-style (`<Error><Code>`). */
export function errorCodeFromBody(body: string): string | undefined {
  return /<Code>([^<]{1,128})<\/Code>/.exec(body)?.[1];
}

export function createSnsClient(connection: RgwConnection): SNSClient {
  const client = new SNSClient({
    endpoint: connection.endpoint,
    region: connection.region,
    credentials: { accessKeyId: connection.accessKeyId, secretAccessKey: connection.secretAccessKey },
    maxAttempts: 4,
  });
  // The SDK's query-protocol parser only understands SNS-style error bodies and reports RGW's S3-style ones as
  // "Unknown". Sitting inside the deserializer, this reads the raw error body first and hands the code on in a header.
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const response = result.response as { statusCode?: number; headers?: Record<string, string>; body?: unknown };
      if (
        (response.statusCode ?? 0) >= 300 &&
        response.body &&
        typeof (response.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === "function"
      ) {
        const chunks: Buffer[] = [];
        for await (const chunk of response.body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(chunk));
        const body = Buffer.concat(chunks);
        const code = errorCodeFromBody(body.toString("utf8"));
        if (code) response.headers = { ...response.headers, [RGW_ERROR_CODE_HEADER]: code };
        response.body = Readable.from([body]);
      }
      return result;
    },
    { step: "deserialize", priority: "low", name: "rgwErrorCode" },
  );
  return client;
}

/** Creates the topic, or overwrites the attributes of an existing one with the same name; returns its ARN. */
export async function putTopic(
  connection: RgwConnection,
  spec: RgwTopicSpec,
  client: SNSClient = createSnsClient(connection),
): Promise<string> {
  const failures = validateTopicSpec(spec);
  if (failures.length > 0) {
    throw new RgwTopicError(
      "CreateTopic",
      "invalid-request",
      "InvalidParameter",
      undefined,
      failures.map((f) => `${f.property}: ${f.reason}`).join("; "),
      "correct the topic inputs listed above",
    );
  }
  let arn: string | undefined;
  try {
    const response = await client.send(new CreateTopicCommand({ Name: spec.name, Attributes: topicAttributes(spec) }));
    arn = response.TopicArn;
  } catch (err) {
    throw mapRgwError("CreateTopic", `topic ${spec.name}`, connection.endpoint, err);
  }
  if (!arn)
    throw new RgwTopicError(
      "CreateTopic",
      "unexpected",
      "NoTopicArn",
      200,
      `topic ${spec.name}: the response carries no TopicArn`,
      "check that s3Endpoint points at a Ceph RGW",
    );
  const parsed = parseTopicArn(arn);
  if (parsed.name !== spec.name)
    throw new RgwTopicError(
      "CreateTopic",
      "unexpected",
      "ArnMismatch",
      200,
      `topic ${spec.name}: RGW answered with ARN ${arn}`,
      "check that s3Endpoint points at a Ceph RGW",
    );
  return arn;
}

/** The topic's current state, or undefined when RGW says it does not exist. */
export async function getTopic(
  connection: RgwConnection,
  arn: string,
  client: SNSClient = createSnsClient(connection),
): Promise<RgwTopicState | undefined> {
  parseTopicArn(arn);
  try {
    const response = await client.send(new GetTopicAttributesCommand({ TopicArn: arn }));
    return topicStateFromAttributes(response.Attributes ?? {});
  } catch (err) {
    const mapped = mapRgwError("GetTopicAttributes", `topic ${arn}`, connection.endpoint, err);
    if (mapped.kind === "not-found") return undefined;
    throw mapped;
  }
}

/** Deletes the topic; a topic that is already gone counts as deleted. */
export async function deleteTopic(connection: RgwConnection, arn: string, client: SNSClient = createSnsClient(connection)): Promise<void> {
  parseTopicArn(arn);
  try {
    await client.send(new DeleteTopicCommand({ TopicArn: arn }));
  } catch (err) {
    const mapped = mapRgwError("DeleteTopic", `topic ${arn}`, connection.endpoint, err);
    if (mapped.kind !== "not-found") throw mapped;
  }
}

/**
 * A short digest of everything RGW copies from a topic into a bucket notification. Ceph snapshots the topic's
 * attributes when the notification is written, so whenever this changes the notification must be rewritten.
 */
export function topicRevision(spec: RgwTopicSpec & { readonly arn: string }): string {
  const canonical = JSON.stringify([spec.arn, spec.name, spec.pushEndpoint, spec.opaqueData, spec.persistent, spec.verifySsl]);
  return createHash("sha256").update(canonical).digest("hex").slice(0, 12);
}
