/**
 * Pulumi dynamic provider for a Ceph RGW notification topic (no Pulumi or Terraform provider has one).
 *
 * Create and update are both CreateTopic (RGW overwrites an existing topic's attributes in place, keeping its ARN
 * and, for a persistent topic, its queue); read is GetTopicAttributes; delete is DeleteTopic. A different name,
 * endpoint or zonegroup is a different topic, so those replace. The provider object is exported so the Ceph
 * integration tests can drive create/read/update/delete against a real RGW without Pulumi.
 */
import type * as pulumi from "@pulumi/pulumi";
import { assertValid, containsUnknown, failuresOfKnownValues, UNKNOWN_VALUE } from "../unknown-values";
import { deleteTopic, getTopic, parseTopicArn, putTopic, RgwConnection, RgwTopicSpec, topicRevision, validateTopicSpec } from "./topic-api";

export type RgwTopicInputs = RgwConnection & RgwTopicSpec;

export interface RgwTopicOutputs extends RgwTopicInputs {
  readonly arn: string;
  /** Digest of the attributes a bucket notification copies; see `topicRevision`. */
  readonly revision: string;
}

/** Pulumi's stand-in for a value not known until apply (`rpc.unknownValue`), which `check` sees during preview. */
export const UNKNOWN_INPUT = UNKNOWN_VALUE;

const REPLACE_KEYS = ["name", "endpoint", "region"] as const;
const UPDATE_KEYS = ["pushEndpoint", "opaqueData", "persistent", "verifySsl", "accessKeyId", "secretAccessKey"] as const;

/** Every problem with the inputs, each naming the property; an unknown value is a problem here. */
export function topicInputFailures(inputs: RgwTopicInputs): pulumi.dynamic.CheckFailure[] {
  const failures: pulumi.dynamic.CheckFailure[] = validateTopicSpec(inputs).map((f) => ({ property: f.property, reason: f.reason }));
  if (!/^https?:\/\/[^/\s]+/.test(inputs.endpoint ?? "")) {
    failures.push({
      property: "endpoint",
      reason: `must be the RGW URL, e.g. https://a3s.fi or http://10.0.0.5:7480, got "${inputs.endpoint}"`,
    });
  }
  if (!inputs.region) failures.push({ property: "region", reason: 'must be the RGW zonegroup name, usually "default"' });
  if (!inputs.accessKeyId) failures.push({ property: "accessKeyId", reason: "the S3 access key is empty" });
  if (!inputs.secretAccessKey) failures.push({ property: "secretAccessKey", reason: "the S3 secret key is empty" });
  return failures;
}

/** Input problems, each naming the property; values still unknown during preview are skipped. */
export function checkTopicInputs(inputs: RgwTopicInputs): pulumi.dynamic.CheckFailure[] {
  return failuresOfKnownValues(topicInputFailures(inputs), inputs);
}

/** What changes; a value still unknown (in a preview) counts as changed. */
export function topicDiff(olds: RgwTopicOutputs, news: RgwTopicInputs): pulumi.dynamic.DiffResult {
  const changed = (k: keyof RgwTopicInputs) => containsUnknown(news[k]) || olds[k] !== news[k];
  const replaces = REPLACE_KEYS.filter(changed);
  const updates = UPDATE_KEYS.filter(changed);
  return {
    changes: replaces.length + updates.length > 0,
    replaces: [...replaces],
    // Same name on the same RGW is the same topic: creating the new one first and then deleting the old ARN
    // would delete the topic just created.
    deleteBeforeReplace: olds.name === news.name && olds.endpoint === news.endpoint,
  };
}

function connectionOf(inputs: RgwTopicInputs): RgwConnection {
  return { endpoint: inputs.endpoint, region: inputs.region, accessKeyId: inputs.accessKeyId, secretAccessKey: inputs.secretAccessKey };
}

function specOf(inputs: RgwTopicInputs): RgwTopicSpec {
  return {
    name: inputs.name,
    pushEndpoint: inputs.pushEndpoint,
    opaqueData: inputs.opaqueData,
    persistent: inputs.persistent,
    verifySsl: inputs.verifySsl,
  };
}

function outputsOf(inputs: RgwTopicInputs, arn: string): RgwTopicOutputs {
  return { ...inputs, arn, revision: topicRevision({ ...specOf(inputs), arn }) };
}

export const rgwTopicProvider = {
  async check(_olds: RgwTopicInputs, news: RgwTopicInputs): Promise<pulumi.dynamic.CheckResult<RgwTopicInputs>> {
    const failures = checkTopicInputs(news);
    return failures.length > 0 ? { inputs: news, failures } : { inputs: news };
  },

  async diff(_id: string, olds: RgwTopicOutputs, news: RgwTopicInputs): Promise<pulumi.dynamic.DiffResult> {
    return topicDiff(olds, news);
  },

  async create(inputs: RgwTopicInputs): Promise<{ id: string; outs: RgwTopicOutputs }> {
    assertValid(`RGW topic ${inputs.name}`, topicInputFailures(inputs));
    const arn = await putTopic(connectionOf(inputs), specOf(inputs));
    return { id: arn, outs: outputsOf(inputs, arn) };
  },

  async read(id: string, props: RgwTopicOutputs): Promise<{ id?: string; props?: RgwTopicOutputs; inputs?: RgwTopicInputs }> {
    const state = await getTopic(connectionOf(props), id);
    // No props tells the engine the topic is gone, so `pulumi refresh` drops it and the next `up` re-creates it.
    if (!state) return {};
    const inputs: RgwTopicInputs = {
      ...connectionOf(props),
      name: state.name,
      pushEndpoint: state.pushEndpoint,
      opaqueData: state.opaqueData,
      persistent: state.persistent,
      verifySsl: state.verifySsl,
    };
    return { id, props: outputsOf(inputs, state.arn), inputs };
  },

  async update(id: string, _olds: RgwTopicOutputs, news: RgwTopicInputs): Promise<{ outs: RgwTopicOutputs }> {
    assertValid(`RGW topic ${news.name}`, topicInputFailures(news));
    const arn = await putTopic(connectionOf(news), specOf(news));
    if (parseTopicArn(arn).name !== parseTopicArn(id).name) {
      throw new Error(`RGW CreateTopic for ${news.name} answered ${arn}, not the existing ${id}; run \`pulumi refresh\``);
    }
    return { outs: outputsOf(news, arn) };
  },

  async delete(id: string, props: RgwTopicOutputs): Promise<void> {
    await deleteTopic(connectionOf(props), id);
  },
};
