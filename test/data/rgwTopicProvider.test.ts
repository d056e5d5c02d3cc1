/**
 * The RGW topic dynamic provider's lifecycle (create, read, update, delete) against responses recorded from a real
 * Ceph 16.2.15 Pacific radosgw (see rgwTopicApi.test.ts), plus check/diff, and the provider as Pulumi ships it:
 * serialized to a module and loaded back, as `pulumi up` does.
 */
import Module from "module";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import {
  checkTopicInputs,
  RgwTopicInputs,
  RgwTopicOutputs,
  rgwTopicProvider,
  topicDiff,
  UNKNOWN_INPUT,
} from "../../infra/rgw/topic-provider";
import { topicRevision } from "../../infra/rgw/topic-api";
import { RgwReplayServer } from "./support/rgwReplay";

const ARN = "arn:aws:sns:default::image-pipeline-rec";

let rgw: RgwReplayServer;
let inputs: RgwTopicInputs;

beforeEach(async () => {
  rgw = await new RgwReplayServer().start();
  inputs = {
    endpoint: rgw.endpoint,
    region: "default",
    accessKeyId: "PIPELINEACCESSKEY",
    secretAccessKey: "pipelinesecretkey0123456789",
    name: "image-pipeline-rec",
    pushEndpoint: "http://203.0.113.10/notify",
    opaqueData: "s3cr3t-Opaque.Data_1",
    persistent: true,
    verifySsl: false,
  };
});

afterEach(async () => {
  await rgw.stop();
});

test("create, read, update in place, read, delete: the topic's whole life", async () => {
  rgw.play("create-topic", "get-topic-attributes", "overwrite-topic", "get-topic-attributes-overwritten", "delete-topic");

  const created = await rgwTopicProvider.create(inputs);
  expect(created.id).toBe(ARN);
  expect(created.outs).toEqual({ ...inputs, arn: ARN, revision: topicRevision({ ...inputs, arn: ARN }) });

  const read = await rgwTopicProvider.read(ARN, created.outs!);
  expect(read.id).toBe(ARN);
  expect(read.props).toEqual(created.outs);

  const changed = { ...inputs, pushEndpoint: "https://hooks.example.org:8443/notify", persistent: false, verifySsl: true };
  expect(topicDiff(created.outs!, changed)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: true });
  const updated = await rgwTopicProvider.update(ARN, created.outs!, changed);
  expect(updated.outs).toEqual({ ...changed, arn: ARN, revision: topicRevision({ ...changed, arn: ARN }) });
  expect(updated.outs!.revision).not.toBe(created.outs!.revision);
  // The update is a CreateTopic on the same name: RGW overwrites in place.
  expect(rgw.received[2].form.Action).toBe("CreateTopic");

  const reread = await rgwTopicProvider.read(ARN, updated.outs!);
  expect(reread.props).toEqual(updated.outs);

  await rgwTopicProvider.delete(ARN, updated.outs!);
  expect(rgw.received.map((r) => r.form.Action)).toEqual([
    "CreateTopic",
    "GetTopicAttributes",
    "CreateTopic",
    "GetTopicAttributes",
    "DeleteTopic",
  ]);
  expect(rgw.pending).toBe(0);
});

test("read of a topic deleted behind Pulumi's back reports it gone, so refresh drops it", async () => {
  rgw.play("get-topic-attributes-missing");
  const outs: RgwTopicOutputs = { ...inputs, arn: ARN, revision: "x" };
  await expect(rgwTopicProvider.read(ARN, outs)).resolves.toEqual({});
});

test("delete of a topic that is already gone succeeds", async () => {
  rgw.play("delete-topic-missing");
  await expect(rgwTopicProvider.delete(ARN, { ...inputs, arn: ARN, revision: "x" })).resolves.toBeUndefined();
});

test("create with refused credentials fails with the RGW code and a fix", async () => {
  rgw.play("create-topic-unknown-key");
  await expect(rgwTopicProvider.create(inputs)).rejects.toThrow(/RGW CreateTopic failed: .*\(InvalidAccessKeyId, HTTP 403\)\. Fix: /);
});

describe("check", () => {
  test("valid inputs pass", async () => {
    await expect(rgwTopicProvider.check(inputs, inputs)).resolves.toEqual({ inputs });
  });

  test("bad inputs fail per property", () => {
    const failures = checkTopicInputs({
      ...inputs,
      endpoint: "a3s.fi",
      region: "",
      opaqueData: "has space",
      pushEndpoint: "webhook/notify",
      secretAccessKey: "",
    });
    expect(failures.map((f) => f.property).sort()).toEqual(["endpoint", "opaqueData", "pushEndpoint", "region", "secretAccessKey"]);
    expect(failures.find((f) => f.property === "endpoint")?.reason).toMatch(/must be the RGW URL, e\.g\. https:\/\/a3s\.fi/);
  });

  test("values still unknown during preview are not judged", () => {
    expect(checkTopicInputs({ ...inputs, pushEndpoint: UNKNOWN_INPUT, opaqueData: UNKNOWN_INPUT, accessKeyId: UNKNOWN_INPUT })).toEqual([]);
  });

  test("UNKNOWN_INPUT is Pulumi's own unknown sentinel", () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    expect(UNKNOWN_INPUT).toBe((require("@pulumi/pulumi/runtime/rpc") as { unknownValue: string }).unknownValue);
  });
});

describe("diff", () => {
  const olds = (): RgwTopicOutputs => ({ ...inputs, arn: ARN, revision: "r" });

  test("no change", () => {
    expect(topicDiff(olds(), inputs)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: true });
  });

  test.each(["pushEndpoint", "opaqueData", "verifySsl", "secretAccessKey"] as const)("%s changes in place", (key) => {
    const news = { ...inputs, [key]: key === "verifySsl" ? true : "changed" };
    expect(topicDiff(olds(), news)).toMatchObject({ changes: true, replaces: [] });
  });

  test("a new name is a new topic, created before the old one is deleted", () => {
    expect(topicDiff(olds(), { ...inputs, name: "renamed" })).toEqual({ changes: true, replaces: ["name"], deleteBeforeReplace: false });
  });

  test("a new zonegroup on the same RGW and name is the same topic object, so delete first", () => {
    expect(topicDiff(olds(), { ...inputs, region: "zg2" })).toEqual({ changes: true, replaces: ["region"], deleteBeforeReplace: true });
  });

  test("a value still unknown in a preview counts as changed (a new floating IP gives a new push endpoint)", () => {
    expect(topicDiff(olds(), { ...inputs, pushEndpoint: UNKNOWN_INPUT })).toEqual({
      changes: true,
      replaces: [],
      deleteBeforeReplace: true,
    });
    expect(topicDiff(olds(), { ...inputs, name: UNKNOWN_INPUT })).toEqual({
      changes: true,
      replaces: ["name"],
      deleteBeforeReplace: false,
    });
  });
});

test("create and update validate every input, the connection included, before calling RGW", async () => {
  await expect(rgwTopicProvider.create({ ...inputs, accessKeyId: "" })).rejects.toThrow(
    /^RGW topic image-pipeline-rec: accessKeyId: the S3 access key is empty$/,
  );
  await expect(rgwTopicProvider.update(ARN, { ...inputs, arn: ARN, revision: "r" }, { ...inputs, endpoint: "a3s.fi" })).rejects.toThrow(
    /endpoint: must be the RGW URL/,
  );
  await expect(rgwTopicProvider.create({ ...inputs, pushEndpoint: UNKNOWN_INPUT })).rejects.toThrow(/pushEndpoint/);
  expect(rgw.received).toEqual([]);
});

test("the provider survives Pulumi's closure serialization and works after loading the module text", async () => {
  const serialized = await pulumi.runtime.serializeFunction(() => rgwTopicProvider);
  // What the dynamic-provider host does with `__provider`: load the text as a module and call its export.
  const filename = path.join(__dirname, "__serialized_rgw_topic_provider.js");
  const mod = new Module(filename, module) as Module & { _compile(code: string, filename: string): void; paths: string[] };
  mod.filename = filename;
  mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(__dirname);
  mod._compile(serialized.text, filename);
  const provider = (mod.exports as Record<string, () => typeof rgwTopicProvider>)[serialized.exportName]();

  rgw.play("create-topic", "delete-topic");
  const created = await provider.create(inputs);
  expect(created.id).toBe(ARN);
  await provider.delete(ARN, created.outs!);
  expect(rgw.pending).toBe(0);
});
