import { Pool } from "pg";
import { loadConfig } from "../../worker/src/config";
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
  const config = loadConfig(
    {
      DATABASE_URL: db.url,
      INPUT_BUCKET: "in-bucket",
      WEBHOOK_SECRET: SECRET,
      KEY_SUFFIX_FILTER: ".jpg,.png,.gif",
      MAX_BODY_BYTES: "4096",
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
    const aws = {
      eventSource: "aws:s3",
      eventName: "s3:ObjectCreated:Put",
      opaqueData: SECRET,
      s3: { bucket: { name: "in-bucket" }, object: { key: encodeAwsKey(key), eTag: '"etag1"', size: 10 } },
    };
    expect((await post({ Records: [aws] })).body).toMatchObject({ stored: 1, duplicates: 0 });
    expect((await post({ Records: [ceph(key)] })).body).toMatchObject({ stored: 0, duplicates: 1 });
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

  it("answers 404 to other routes", async () => {
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });
});
