import { decodeAwsKey, encodeAwsKey, NotificationFormatError, parseNotification } from "../../worker/src/s3-event";
import { classifyRecords } from "../../worker/src/webhook";
import { cephRecord } from "../../worker/local/forwarder";

const TRICKY_KEYS = ["in/a b.jpg", "in/a+b.jpg", "in/100% done.png", "in/%20literal.png", "in/ünïcødé 日本.png", "in/a+b c%2B.gif"];

function awsRecord(encodedKey: string, extra: Record<string, unknown> = {}) {
  return {
    eventVersion: "2.1",
    eventSource: "aws:s3",
    eventName: "s3:ObjectCreated:Put",
    s3: { bucket: { name: "in-bucket" }, object: { key: encodedKey, size: 12, eTag: '"0123abcd"', sequencer: "0055AED6DCD90281E5" } },
    ...extra,
  };
}

describe("parseNotification", () => {
  it.each(TRICKY_KEYS)("keeps the Ceph RGW key %j as sent (not URL-encoded)", (key) => {
    const [r] = parseNotification({ Records: [cephRecord({ bucket: "in-bucket", key, size: 5, eTag: "abc" }, "secret")] });
    expect(r).toMatchObject({
      origin: "ceph",
      eventName: "ObjectCreated:Put",
      bucket: "in-bucket",
      key,
      eTag: "abc",
      size: 5,
      opaqueData: "secret",
    });
  });

  it.each(TRICKY_KEYS)("decodes the AWS/MinIO key of %j ('+' is a space, %%2B a plus)", (key) => {
    const encoded = encodeAwsKey(key);
    expect(encoded).not.toContain(" ");
    const [r] = parseNotification({ Records: [awsRecord(encoded)] });
    expect(r.key).toBe(key);
    expect(r.eTag).toBe("0123abcd");
    expect(r.eventName).toBe("ObjectCreated:Put");
  });

  it("treats minio:s3 like aws:s3 and a literal '+' from AWS as a space", () => {
    expect(decodeAwsKey("a+b%2Bc")).toBe("a b+c");
    const [r] = parseNotification({ Records: [awsRecord("x+y", { eventSource: "minio:s3" })] });
    expect(r).toMatchObject({ origin: "aws", key: "x y" });
  });

  it("accepts the size as a numeric string, as Ceph's documentation shows it", () => {
    const rec = cephRecord({ bucket: "b", key: "k", size: 0, eTag: "e" }, "s") as unknown as { s3: { object: { size: unknown } } };
    rec.s3.object.size = "1024";
    expect(parseNotification({ Records: [rec] })[0].size).toBe(1024);
  });

  it("returns no records for an S3 test event", () => {
    expect(parseNotification({ Service: "Amazon S3", Event: "s3:TestEvent", Bucket: "b" })).toEqual([]);
  });

  it.each([
    [null, "body must be a JSON object"],
    [{ records: [] }, "body.Records must be an array"],
    [{ Records: [42] }, "Records[0] must be an object"],
    [{ Records: [{ eventSource: "gcs", eventName: "x", s3: {} }] }, "Records[0].eventSource must be"],
    [{ Records: [{ ...awsRecord("k"), eventName: "" }] }, "Records[0].eventName"],
    [{ Records: [{ ...awsRecord("k"), s3: { bucket: { name: "b" } } }] }, "Records[0].s3 must contain bucket and object"],
    [{ Records: [awsRecord("bad%E0%A4%A")] }, "is not valid URL encoding"],
    [
      { Records: [awsRecord("k", { s3: { bucket: { name: "b" }, object: { key: "k", size: -1 } } })] },
      "size must be a non-negative integer",
    ],
    [{ Records: [awsRecord("in/a%00b.jpg")] }, "Records[0].s3.object.key contains a NUL character"],
    [{ Records: [awsRecord("k".repeat(1025))] }, "Records[0].s3.object.key is 1025 bytes long; S3 keys have at most 1024"],
    [{ Records: [awsRecord("é".repeat(513))] }, "Records[0].s3.object.key is 1026 bytes long"],
    [{ Records: [awsRecord("k", { eventTime: "yesterday" })] }, 'Records[0].eventTime must be an ISO 8601 time, got "yesterday"'],
    [{ Records: [awsRecord("k", { eventTime: 1700000000 })] }, "Records[0].eventTime must be an ISO 8601 time, got 1700000000"],
  ])("rejects %j with a message naming the field", (body, message) => {
    expect(() => parseNotification(body)).toThrow(NotificationFormatError);
    expect(() => parseNotification(body)).toThrow(message);
  });
});

describe("classifyRecords", () => {
  const cfg = { inputBucket: "in-bucket", webhookSecret: "s", keyPrefixFilter: "in/", keySuffixFilter: [".jpg"], maxBodyBytes: 1024 };
  it("accepts created objects in our bucket under the filter and says why the others are ignored", () => {
    const records = parseNotification({
      Records: [
        cephRecord({ bucket: "in-bucket", key: "in/ok.jpg", size: 1, eTag: "e1" }, "s"),
        cephRecord({ bucket: "in-bucket", key: "in/gone.jpg", size: 1, eTag: "e2", eventName: "ObjectRemoved:Delete" }, "s"),
        cephRecord({ bucket: "someone-elses", key: "in/x.jpg", size: 1, eTag: "e3" }, "s"),
        cephRecord({ bucket: "in-bucket", key: "in/x.txt", size: 1, eTag: "e4" }, "s"),
        cephRecord({ bucket: "in-bucket", key: "out/x.jpg", size: 1, eTag: "e5" }, "s"),
      ],
    });
    const { accepted, ignored } = classifyRecords(records, cfg);
    expect(accepted).toEqual([{ bucket: "in-bucket", key: "in/ok.jpg", eTag: "e1", mtime: expect.any(Date), size: 1 }]);
    expect(ignored.map((i) => [i.key, i.reason])).toEqual([
      ["in/gone.jpg", "ignored_event"],
      ["in/x.jpg", "ignored_bucket"],
      ["in/x.txt", "ignored_key"],
      ["out/x.jpg", "ignored_key"],
    ]);
  });

  it("keeps a 1,024-byte key, and reads the event time to the millisecond (RGW sends microseconds)", () => {
    const [r] = parseNotification({ Records: [awsRecord("k".repeat(1024), { eventTime: "2026-03-04T05:06:07.123456Z" })] });
    expect(r.key).toHaveLength(1024);
    expect(r.eventTime?.toISOString()).toBe("2026-03-04T05:06:07.123Z");
  });

  it("ignores keys with '.' or '..' path segments, which some S3 servers resolve on disk", () => {
    const keys = ["in/../etc/x.jpg", "in/./x.jpg", "in/a/..", "in/..jpg", "in/a..b.jpg", "in/.hidden.jpg"];
    const records = parseNotification({ Records: keys.map((key) => cephRecord({ bucket: "in-bucket", key, size: 1, eTag: "e" }, "s")) });
    const { accepted, ignored } = classifyRecords(records, { ...cfg, keySuffixFilter: [] });
    expect(ignored.map((i) => [i.key, i.reason])).toEqual([
      ["in/../etc/x.jpg", "ignored_unsafe_key"],
      ["in/./x.jpg", "ignored_unsafe_key"],
      ["in/a/..", "ignored_unsafe_key"],
    ]);
    expect(accepted.map((a) => a.key)).toEqual(["in/..jpg", "in/a..b.jpg", "in/.hidden.jpg"]);
  });

  it("requires an event time on accepted records: with the eTag it identifies the object version", () => {
    const records = parseNotification({ Records: [awsRecord("in/a.jpg")] });
    expect(() => classifyRecords(records, cfg)).toThrow("Records[0].eventTime is required for ObjectCreated:Put events");
  });

  it("requires an eTag on accepted records, since it identifies the object version", () => {
    const records = parseNotification({
      Records: [awsRecord("in/a.jpg", { s3: { bucket: { name: "in-bucket" }, object: { key: "in/a.jpg" } } })],
    });
    expect(() => classifyRecords(records, cfg)).toThrow("Records[0].s3.object.eTag is required");
  });
});
