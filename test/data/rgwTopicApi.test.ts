/**
 * The RGW topic calls against responses recorded from a real radosgw: ceph version 16.2.15
 * (618f440892089921c3e944a991122ddc44e60516) pacific (stable), Debian package 16.2.15+ds-0+deb12u2 (see the
 * `rgwVersion` field of each fixture in test/data/rgw/, re-recorded with test/data/rgw/record.ts).
 */
import { CreateTopicCommand } from "@aws-sdk/client-sns";
import {
  createSnsClient,
  deleteTopic,
  errorCodeFromBody,
  formatTopicArn,
  getTopic,
  mapRgwError,
  parseEndpointArgs,
  parseTopicArn,
  putTopic,
  RgwConnection,
  RgwTopicError,
  RgwTopicSpec,
  topicAttributes,
  topicRevision,
  topicStateFromAttributes,
  validateTopicSpec,
} from "../../infra/rgw/topic-api";
import { loadRecording, RgwReplayServer } from "./support/rgwReplay";

const ARN = "arn:aws:sns:default::image-pipeline-rec";
const SPEC: RgwTopicSpec = {
  name: "image-pipeline-rec",
  pushEndpoint: "http://203.0.113.10/notify",
  opaqueData: "s3cr3t-Opaque.Data_1",
  persistent: true,
  verifySsl: false,
};

let rgw: RgwReplayServer;
let conn: RgwConnection;

beforeEach(async () => {
  rgw = await new RgwReplayServer().start();
  conn = { endpoint: rgw.endpoint, region: "default", accessKeyId: "PIPELINEACCESSKEY", secretAccessKey: "pipelinesecretkey0123456789" };
});

afterEach(async () => {
  await rgw.stop();
});

test("the fixtures come from Ceph 16.2.15 Pacific", () => {
  expect(loadRecording("create-topic").rgwVersion).toMatch(/^ceph version 16\.2\.15 .*pacific/);
});

describe("putTopic (CreateTopic)", () => {
  test("sends the topic name and the four attributes as Attributes.entry.N pairs, signed for sns in the zonegroup", async () => {
    rgw.play("create-topic");
    await expect(putTopic(conn, SPEC)).resolves.toBe(ARN);

    expect(rgw.received).toHaveLength(1);
    const { method, path, form, headers } = rgw.received[0];
    expect(method).toBe("POST");
    expect(path).toBe("/");
    expect(form.Action).toBe("CreateTopic");
    expect(form.Name).toBe("image-pipeline-rec");
    const attributes: Record<string, string> = {};
    for (let i = 1; form[`Attributes.entry.${i}.key`] !== undefined; i++)
      attributes[form[`Attributes.entry.${i}.key`]] = form[`Attributes.entry.${i}.value`];
    expect(attributes).toEqual({
      "push-endpoint": "http://203.0.113.10/notify",
      OpaqueData: "s3cr3t-Opaque.Data_1",
      "verify-ssl": "false",
      persistent: "true",
    });
    expect(headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=PIPELINEACCESSKEY\/\d{8}\/default\/sns\/aws4_request,/);
  });

  test("the request matches what was sent to the real RGW when the fixture was recorded", async () => {
    rgw.play("create-topic");
    await putTopic(conn, SPEC);
    expect(rgw.received[0].form).toEqual(loadRecording("create-topic").exchanges[0].request.form);
  });

  test("a non-persistent topic omits the persistent attribute, because Pacific treats its mere presence as true", async () => {
    rgw.play("overwrite-topic");
    await putTopic(conn, { ...SPEC, persistent: false });
    const keys = Object.entries(rgw.received[0].form)
      .filter(([k]) => k.endsWith(".key"))
      .map(([, v]) => v);
    expect(keys).toEqual(["push-endpoint", "OpaqueData", "verify-ssl"]);
  });

  test("invalid specs are refused before any request, naming every bad field", async () => {
    const err = await putTopic(conn, { ...SPEC, name: "bad name", opaqueData: "a&b=c" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RgwTopicError);
    expect((err as RgwTopicError).message).toMatch(/name: topic name must be/);
    expect((err as RgwTopicError).message).toMatch(/opaqueData: OpaqueData must/);
    expect(rgw.received).toHaveLength(0);
  });
});

describe("getTopic (GetTopicAttributes)", () => {
  test("parses the recorded attributes into the topic state", async () => {
    rgw.play("get-topic-attributes");
    await expect(getTopic(conn, ARN)).resolves.toEqual({ ...SPEC, arn: ARN, user: "" });
    expect(rgw.received[0].form).toEqual({ Action: "GetTopicAttributes", Version: "2010-03-31", TopicArn: ARN });
  });

  test("reads back an overwritten topic: new endpoint, verify-ssl on, no longer persistent", async () => {
    rgw.play("get-topic-attributes-overwritten");
    await expect(getTopic(conn, ARN)).resolves.toEqual({
      ...SPEC,
      arn: ARN,
      user: "",
      pushEndpoint: "https://hooks.example.org:8443/notify",
      persistent: false,
      verifySsl: true,
    });
  });

  test("a missing topic (404 NoSuchEntity) is undefined, not an error", async () => {
    rgw.play("get-topic-attributes-missing");
    await expect(getTopic(conn, ARN)).resolves.toBeUndefined();
  });

  test("refuses a malformed ARN without calling RGW", async () => {
    await expect(getTopic(conn, "image-pipeline-rec")).rejects.toThrow(
      /not an RGW topic ARN; expected arn:aws:sns:<zonegroup>:<tenant>:<name>/,
    );
    expect(rgw.received).toHaveLength(0);
  });
});

describe("deleteTopic (DeleteTopic)", () => {
  test("deletes by ARN", async () => {
    rgw.play("delete-topic");
    await expect(deleteTopic(conn, ARN)).resolves.toBeUndefined();
    expect(rgw.received[0].form).toEqual({ Action: "DeleteTopic", Version: "2010-03-31", TopicArn: ARN });
  });

  test("deleting a topic that is already gone succeeds", async () => {
    rgw.play("delete-topic-missing");
    await expect(deleteTopic(conn, ARN)).resolves.toBeUndefined();
  });
});

describe("error mapping of recorded RGW errors (S3-style <Error><Code> bodies)", () => {
  test.each([
    [
      "create-topic-bad-signature",
      "access-denied",
      "SignatureDoesNotMatch",
      403,
      /credentials were refused.*Fix: check that the S3 access key and secret/,
    ],
    ["create-topic-unknown-key", "access-denied", "InvalidAccessKeyId", 403, /credentials were refused/],
  ])("%s -> %s %s", async (fixture, kind, code, status, message) => {
    rgw.play(fixture);
    const err = (await putTopic(conn, SPEC).catch((e: unknown) => e)) as RgwTopicError;
    expect(err).toBeInstanceOf(RgwTopicError);
    expect({ action: err.action, kind: err.kind, code: err.code, status: err.status }).toEqual({
      action: "CreateTopic",
      kind,
      code,
      status,
    });
    expect(err.message).toMatch(message);
  });

  test("RGW's 400 InvalidInput (CreateTopic without a name, sent with the raw client) is an invalid request", async () => {
    rgw.play("create-topic-without-name");
    const err = await createSnsClient(conn)
      .send(new CreateTopicCommand({ Name: "" }))
      .then(
        () => undefined,
        (e: unknown) => mapRgwError("CreateTopic", "topic (no name)", conn.endpoint, e),
      );
    expect(err && { kind: err.kind, code: err.code, status: err.status }).toEqual({
      kind: "invalid-request",
      code: "InvalidInput",
      status: 400,
    });
  });

  test("server errors and an unreachable endpoint are told apart", async () => {
    expect(mapRgwError("DeleteTopic", "topic x", "http://rgw", { name: "Unknown", $metadata: { httpStatusCode: 503 } }).kind).toBe(
      "server-error",
    );
    await rgw.stop();
    const err = (await getTopic(conn, ARN).catch((e: unknown) => e)) as RgwTopicError;
    expect(err.kind).toBe("unreachable");
    expect(err.message).toContain(conn.endpoint);
    expect(err.message).toMatch(/Fix: check the s3Endpoint config value/);
  });

  test("the error code is also read from an SNS-style body", () => {
    expect(errorCodeFromBody("<ErrorResponse><Error><Type>Sender</Type><Code>NotFound</Code></Error></ErrorResponse>")).toBe("NotFound");
    expect(errorCodeFromBody("<html>502 Bad Gateway</html>")).toBeUndefined();
  });
});

describe("pure parts", () => {
  test("ARNs: RGW's default zonegroup and empty tenant, tenants, and rejects", () => {
    expect(parseTopicArn(ARN)).toEqual({ partition: "aws", region: "default", tenant: "", name: "image-pipeline-rec" });
    expect(parseTopicArn("arn:aws:sns:zg1:project42:t_1")).toEqual({ partition: "aws", region: "zg1", tenant: "project42", name: "t_1" });
    expect(formatTopicArn("default", "", "image-pipeline-rec")).toBe(ARN);
    for (const bad of ["", "arn:aws:s3:default::x", "arn:aws:sns:default::", "arn:aws:sns:default:x", "arn:aws:sns:default::a:b"]) {
      expect(() => parseTopicArn(bad)).toThrow(/is not an RGW topic ARN/);
    }
  });

  test("attributes: persistent only when true, verify-ssl always explicit", () => {
    expect(topicAttributes(SPEC)).toEqual({
      "push-endpoint": SPEC.pushEndpoint,
      OpaqueData: SPEC.opaqueData,
      "verify-ssl": "false",
      persistent: "true",
    });
    expect(topicAttributes({ ...SPEC, persistent: false, verifySsl: true })).toEqual({
      "push-endpoint": SPEC.pushEndpoint,
      OpaqueData: SPEC.opaqueData,
      "verify-ssl": "true",
    });
  });

  test("validation names each field and why", () => {
    expect(validateTopicSpec(SPEC)).toEqual([]);
    const failures = validateTopicSpec({
      name: "",
      pushEndpoint: "ftp://x/notify",
      opaqueData: "",
      persistent: "yes" as unknown as boolean,
      verifySsl: true,
    });
    expect(failures.map((f) => f.property)).toEqual(["name", "pushEndpoint", "opaqueData", "persistent"]);
    expect(validateTopicSpec({ ...SPEC, pushEndpoint: "http://h/notify?a=1&b=2" })[0].reason).toMatch(/must not contain "&", "="/);
    expect(validateTopicSpec({ ...SPEC, pushEndpoint: "http://user:pw@h/notify" })[0].property).toBe("pushEndpoint");
  });

  test("EndpointArgs and attributes parsing keeps defaults RGW applies", () => {
    expect(parseEndpointArgs("a=1&persistent&b=x=y")).toEqual({ a: "1", persistent: "", b: "x=y" });
    const state = topicStateFromAttributes({
      TopicArn: ARN,
      EndPoint: JSON.stringify({ EndpointAddress: "http://h/notify", EndpointArgs: "push-endpoint=http://h/notify" }),
    });
    expect(state).toEqual({
      arn: ARN,
      name: "image-pipeline-rec",
      user: "",
      pushEndpoint: "http://h/notify",
      opaqueData: "",
      persistent: false,
      verifySsl: true,
    });
    expect(() => topicStateFromAttributes({})).toThrow(/no TopicArn/);
    expect(() => topicStateFromAttributes({ TopicArn: ARN, EndPoint: "{" })).toThrow(/EndPoint attribute is not JSON/);
  });

  test("the revision changes with every attribute a notification copies, and only with those", () => {
    const base = topicRevision({ ...SPEC, arn: ARN });
    expect(base).toMatch(/^[0-9a-f]{12}$/);
    expect(topicRevision({ ...SPEC, arn: ARN })).toBe(base);
    const variants = [
      { ...SPEC, arn: "arn:aws:sns:default::other", name: "other" },
      { ...SPEC, arn: ARN, pushEndpoint: "http://203.0.113.11/notify" },
      { ...SPEC, arn: ARN, opaqueData: "rotated" },
      { ...SPEC, arn: ARN, persistent: false },
      { ...SPEC, arn: ARN, verifySsl: true },
    ];
    const revisions = variants.map(topicRevision);
    expect(new Set([base, ...revisions]).size).toBe(variants.length + 1);
  });
});
