import http from "node:http";
import { Pool } from "pg";
import { loadConfig } from "../../worker/src/config";
import { LATEST_VERSION } from "../../worker/src/db/migrations";
import { migrate } from "../../worker/src/db/migrate";
import { encodeAwsKey } from "../../worker/src/s3-event";
import { startWebhook, type RunningService } from "../../worker/src/webhook-service";
import { cephRecord } from "../../worker/local/forwarder";
import { silentLogger } from "./helpers/logger";
import { startTestDatabase, type TestDatabase } from "./helpers/postgres";

const SECRET = "s3cr3t-opaque-data";
let db: TestDatabase;
let pool: Pool;
let webhook: RunningService;
let base: string;

beforeAll(async () => {
  db = await startTestDatabase();
  pool = new Pool({ connectionString: db.url });
  pool.on("error", () => undefined);
  await migrate(pool);
  const config = loadConfig(
    {
      DATABASE_URL: db.url,
      INPUT_BUCKET: "in-bucket",
      WEBHOOK_SECRET: SECRET,
      KEY_SUFFIX_FILTER: ".jpg,.png,.gif",
      MAX_BODY_BYTES: "4096",
      NOTIFICATION_MAX_AGE_SECONDS: "3600",
      LOG_LEVEL: "silent",
    },
    "webhook",
  );
  webhook = await startWebhook({ ...config, port: 0 }, silentLogger, "127.0.0.1");
  base = `http://127.0.0.1:${webhook.port}`;
});

afterAll(async () => {
  await webhook?.stop();
  await pool?.end();
  await db?.stop();
});

beforeEach(async () => {
  await pool.query("TRUNCATE image_pipeline.jobs CASCADE");
});

const post = async (body: unknown, headers: Record<string, string> = {}) => {
  const res = await fetch(`${base}/notify`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
};
/**
 * A POST through node:http, with exactly the headers given (fetch always sets a content type for a string
 * body) and "Connection: close", written in chunks the way a client streams a large body. Resolves once the response has ended and
 * the request is closed; rejects if the connection failed at any point (e.g. EPIPE: the server closed it
 * while the body was still being sent).
 */
const rawPost = (body: string | Buffer, headers: http.OutgoingHttpHeaders) =>
  new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    let response: { status: number; body: Record<string, unknown> } | undefined;
    let failed: Error | undefined;
    const req = http.request(`${base}/notify`, { method: "POST", headers, agent: false }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => (text += d.toString()));
      res.on("end", () => (response = { status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on("error", (err) => (failed = err));
    req.on("close", () => (failed || !response ? reject(failed ?? new Error("no response")) : resolve(response)));
    const data = Buffer.from(body);
    let sent = 0;
    const writeMore = (): void => {
      if (failed) return;
      if (sent >= data.length) return void req.end();
      const chunk = data.subarray(sent, sent + 256 * 1024);
      sent += chunk.length;
      if (req.write(chunk)) setTimeout(writeMore, 2);
      else req.once("drain", writeMore);
    };
    writeMore();
  });
const jobs = async () => (await pool.query("SELECT bucket, object_key, etag, source FROM image_pipeline.jobs ORDER BY id")).rows;
const ceph = (key: string, eTag = "etag1", secret = SECRET, extra: Partial<Parameters<typeof cephRecord>[0]> = {}) =>
  cephRecord({ bucket: "in-bucket", key, size: 10, eTag, ...extra }, secret);
const metric = async (name: string, labels: string) => {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(" ").pop()) : 0;
};

describe("POST /notify", () => {
  it("stores a Ceph RGW notification as a job, then answers 200", async () => {
    const res = await post({ Records: [ceph("in/a b+c%d ü.jpg")] });
    expect(res).toMatchObject({ status: 200, body: { stored: 1, duplicates: 0, ignored: [] } });
    expect(await jobs()).toEqual([{ bucket: "in-bucket", object_key: "in/a b+c%d ü.jpg", etag: "etag1", source: "notification" }]);
  });

  it("decodes AWS/MinIO keys: the same object in both encodings is one job", async () => {
    const key = "in/a b+c%d ü.jpg";
    const eventTime = new Date().toISOString();
    const aws = {
      eventSource: "aws:s3",
      eventName: "s3:ObjectCreated:Put",
      eventTime,
      opaqueData: SECRET,
      s3: { bucket: { name: "in-bucket" }, object: { key: encodeAwsKey(key), eTag: '"etag1"', size: 10 } },
    };
    expect((await post({ Records: [aws] })).body).toMatchObject({ stored: 1, duplicates: 0 });
    expect((await post({ Records: [ceph(key, "etag1", SECRET, { eventTime })] })).body).toMatchObject({ stored: 0, duplicates: 1 });
    expect((await jobs()).map((j) => j.object_key)).toEqual([key]);
  });

  it("accepts the secret as a bearer token (MinIO webhook targets)", async () => {
    const rec = { ...ceph("in/x.jpg"), opaqueData: undefined };
    expect((await post({ Records: [rec] }, { authorization: `Bearer ${SECRET}` })).status).toBe(200);
    expect((await post({ Records: [rec] }, { authorization: "Bearer wrong" })).status).toBe(401);
  });

  it("answers 401 to a wrong or missing OpaqueData and stores nothing", async () => {
    const before = await metric("image_pipeline_notifications_total", 'outcome="unauthorized"');
    expect((await post({ Records: [ceph("in/x.jpg", "e", "wrong-secret")] })).status).toBe(401);
    expect((await post({ Records: [ceph("in/x.jpg"), ceph("in/y.jpg", "e", "")] })).status).toBe(401);
    expect((await post({ Records: [{ ...ceph("in/x.jpg"), opaqueData: undefined }] })).status).toBe(401);
    expect(await jobs()).toEqual([]);
    expect(await metric("image_pipeline_notifications_total", 'outcome="unauthorized"')).toBe(before + 3);
  });

  it("answers 400 with the reason to malformed JSON and malformed records", async () => {
    const bad = await post("{not json");
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/^body is not valid JSON/);
    const noETag = await post({ Records: [{ ...ceph("in/x.jpg"), s3: { ...ceph("in/x.jpg").s3, object: { key: "in/x.jpg", size: 1 } } }] });
    expect(noETag.status).toBe(400);
    expect(noETag.body.error).toBe("Records[0].s3.object.eTag is required for ObjectCreated:Put events (it identifies the object version)");
    const noBucket = await post({ Records: [{ ...ceph("in/x.jpg"), s3: { object: { key: "k" } } }] });
    expect(noBucket).toMatchObject({ status: 400, body: { error: "Records[0].s3 must contain bucket and object objects" } });
    expect(await jobs()).toEqual([]);
  });

  it("answers 413 to a body above MAX_BODY_BYTES", async () => {
    const res = await post({ Records: [ceph("in/x.jpg")], padding: "x".repeat(5000) });
    expect(res.status).toBe(413);
    expect(res.body.error).toBe("body exceeds MAX_BODY_BYTES=4096");
  });

  it("acknowledges but ignores other buckets, non-create events and filtered keys, with counters", async () => {
    const before = await metric("image_pipeline_notification_records_total", 'outcome="ignored_bucket"');
    const res = await post({
      Records: [
        ceph("in/ok.jpg", "e1"),
        cephRecord({ bucket: "not-ours", key: "in/x.jpg", size: 1, eTag: "e2" }, SECRET),
        ceph("in/deleted.jpg", "e3", SECRET, { eventName: "ObjectRemoved:Delete" }),
        ceph("in/readme.txt", "e4"),
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      stored: 1,
      duplicates: 0,
      ignored: [
        { key: "in/x.jpg", reason: "ignored_bucket" },
        { key: "in/deleted.jpg", reason: "ignored_event" },
        { key: "in/readme.txt", reason: "ignored_key" },
      ],
    });
    expect((await jobs()).map((j) => j.object_key)).toEqual(["in/ok.jpg"]);
    expect(await metric("image_pipeline_notification_records_total", 'outcome="ignored_bucket"')).toBe(before + 1);
  });

  it("answers 503 while the database is down (so Ceph retries), and recovers when it is back", async () => {
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    await db.server.stop();
    try {
      const res = await post({ Records: [ceph("in/during-outage.jpg")] });
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("5");
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    } finally {
      await db.server.start();
    }
    expect((await post({ Records: [ceph("in/during-outage.jpg")] })).status).toBe(200);
    expect((await jobs()).map((j) => j.object_key)).toEqual(["in/during-outage.jpg"]);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it("answers 400 to a body that is JSON but not an object (null, an array, a number)", async () => {
    for (const body of ["null", "[]", "42", '"Records"']) {
      expect(await post(body)).toMatchObject({ status: 400, body: { error: "body must be a JSON object with a Records array" } });
    }
    expect(await jobs()).toEqual([]);
  });

  it("answers 400 to a key with a NUL character or longer than S3's 1,024 bytes, and stores nothing", async () => {
    const nul = await post({ Records: [ceph("in/a\u0000b.jpg")] });
    expect(nul).toMatchObject({ status: 400, body: { error: "Records[0].s3.object.key contains a NUL character" } });
    const long = await post({ Records: [ceph(`in/${"k".repeat(1020)}.jpg`)] });
    expect(long).toMatchObject({ status: 400, body: { error: "Records[0].s3.object.key is 1027 bytes long; S3 keys have at most 1024" } });
    expect((await post({ Records: [ceph(`in/${"k".repeat(1017)}.jpg`)] })).status).toBe(200);
    expect((await jobs()).map((j) => j.object_key.length)).toEqual([1024]);
  });

  it("ignores keys with '.' or '..' path segments, with a counter", async () => {
    const before = await metric("image_pipeline_notification_records_total", 'outcome="ignored_unsafe_key"');
    const res = await post({ Records: [ceph("in/../secret.jpg", "e1"), ceph("in/./x.jpg", "e2"), ceph("in/ok..jpg", "e3")] });
    expect(res).toMatchObject({
      status: 200,
      body: {
        stored: 1,
        ignored: [
          { key: "in/../secret.jpg", reason: "ignored_unsafe_key" },
          { key: "in/./x.jpg", reason: "ignored_unsafe_key" },
        ],
      },
    });
    expect((await jobs()).map((j) => j.object_key)).toEqual(["in/ok..jpg"]);
    expect(await metric("image_pipeline_notification_records_total", 'outcome="ignored_unsafe_key"')).toBe(before + 2);
  });

  it("accepts application/json or no content type (as RGW sends), and answers 415 to others", async () => {
    expect((await post({ Records: [ceph("in/typed.jpg")] }, { "content-type": "application/json; charset=utf-8" })).status).toBe(200);
    const plain = await post({ Records: [ceph("in/plain.jpg")] }, { "content-type": "text/plain" });
    expect(plain).toMatchObject({ status: 415, body: { error: expect.stringContaining('content-type "text/plain" is not accepted') } });
    const untyped = await rawPost(JSON.stringify({ Records: [ceph("in/untyped.jpg")] }), {});
    expect(untyped.status).toBe(200);
    expect((await jobs()).map((j) => j.object_key)).toEqual(["in/typed.jpg", "in/untyped.jpg"]);
  });

  it("answers an s3:TestEvent with 200 only when it carries the secret", async () => {
    const testEvent = { Service: "Amazon S3", Event: "s3:TestEvent", Time: new Date().toISOString(), Bucket: "in-bucket" };
    expect((await post(testEvent)).status).toBe(401);
    expect((await post(testEvent, { authorization: "Bearer wrong" })).status).toBe(401);
    expect(await post(testEvent, { authorization: `Bearer ${SECRET}` })).toMatchObject({ status: 200, body: { stored: 0 } });
  });

  it("answers 413 to a large body before closing, so the sender sees the status, and keeps serving", async () => {
    const big = Buffer.alloc(4 * 1024 * 1024, 0x20);
    for (const headers of [{ "content-length": String(big.length) }, { "transfer-encoding": "chunked" }]) {
      const res = await rawPost(big, { "content-type": "application/json", ...headers });
      expect(res).toMatchObject({ status: 413, body: { error: "body exceeds MAX_BODY_BYTES=4096" } });
    }
    expect((await post({ Records: [ceph("in/after-413.jpg")] })).status).toBe(200);
  });

  it("rejects a notification older than NOTIFICATION_MAX_AGE_SECONDS (a replay) with 401, and stores nothing", async () => {
    const before = await metric("image_pipeline_notifications_total", 'outcome="replayed"');
    const old = new Date(Date.now() - 3_700_000).toISOString();
    const res = await post({ Records: [ceph("in/replayed.jpg", "e1", SECRET, { eventTime: old })] });
    expect(res).toMatchObject({ status: 401, body: { error: `eventTime ${old} is older than NOTIFICATION_MAX_AGE_SECONDS=3600` } });
    expect(await jobs()).toEqual([]);
    expect(await metric("image_pipeline_notifications_total", 'outcome="replayed"')).toBe(before + 1);
    const recent = new Date(Date.now() - 3_500_000).toISOString();
    expect((await post({ Records: [ceph("in/late.jpg", "e1", SECRET, { eventTime: recent })] })).status).toBe(200);
  });

  it("does not migrate the database: until the schema is there it is unready, says why, and answers 503", async () => {
    await db.server.createDatabase("unmigrated");
    const url = db.server.url("unmigrated");
    const config = loadConfig({ DATABASE_URL: url, INPUT_BUCKET: "in-bucket", WEBHOOK_SECRET: SECRET, LOG_LEVEL: "silent" }, "webhook");
    const unmigrated = await startWebhook({ ...config, port: 0 }, silentLogger, "127.0.0.1");
    const other = new Pool({ connectionString: url });
    other.on("error", () => undefined);
    try {
      const at = `http://127.0.0.1:${unmigrated.port}`;
      expect((await other.query("SELECT to_regclass('image_pipeline.jobs') AS t")).rows).toEqual([{ t: null }]);
      const ready = await fetch(`${at}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({
        status: "not ready",
        reason: `database schema is at version 0, this build needs ${LATEST_VERSION}: run 'main.js migrate' (the migrate Job) first`,
      });
      const notify = () =>
        fetch(`${at}/notify`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ Records: [ceph("in/early.jpg")] }),
        });
      expect((await notify()).status).toBe(503);
      await migrate(other);
      expect((await fetch(`${at}/readyz`)).status).toBe(200);
      expect((await notify()).status).toBe(200);
    } finally {
      await unmigrated.stop();
      await other.end();
    }
  });

  it("answers 404 to other routes", async () => {
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });
});
