/**
 * Pulumi dynamic provider for a Trove instance's `access` (is_public + allowed_cidrs), which no Pulumi or
 * Terraform provider can set (see access-api.ts).
 *
 * - check and diff accept values the engine does not know yet (during a first preview the floating IP, and so the
 *   allowed CIDRs, are unknown) and judge only what is known;
 * - create and update validate for real, wait for the instance to be ACTIVE, send the whole access setting and
 *   wait until Trove reports it (and, for a public instance, its public address);
 * - read reports what Trove has, so `pulumi refresh` shows a list someone edited in the web UI and the next `up`
 *   puts the program's list back;
 * - delete changes nothing: the access belongs to the instance, and the instance is deleted or replaced with it.
 */
import * as pulumi from "@pulumi/pulumi";
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { type OpenStackAuthInputs, resolveCredentials } from "../openstack-api/credentials";
import type { RetryPolicy } from "../openstack-api/http";
import { allowedCidrProblems, canonicalCidrs } from "./allowed-cidrs";
import {
  accessOf,
  connectTrove,
  getInstance,
  publicAddressOf,
  putAccess,
  sameAccess,
  type TroveAccess,
  type TroveClient,
  type TroveInstanceRecord,
  waitForInstance,
} from "./access-api";

export interface TroveAccessInputs {
  /** The DBaaS's clouds.yaml entry (and region), resolved when the provider runs so no secret sits in state. */
  readonly auth: OpenStackAuthInputs;
  readonly instanceId: string;
  /** For messages only. */
  readonly instanceName: string;
  readonly isPublic: boolean;
  readonly allowedCidrs: string[];
  readonly timeoutMinutes: number;
}

export interface TroveAccessOutputs extends TroveAccessInputs {
  /** The instance's public address once it is public, else "". */
  readonly publicAddress: string;
}

export interface TroveAccessProviderOptions {
  readonly pollIntervalMs?: number;
  readonly retry?: RetryPolicy;
  readonly env?: () => NodeJS.ProcessEnv;
  readonly log?: (message: string) => void;
}

function isUnknown(value: unknown): boolean {
  return value === unknownValue || (Array.isArray(value) && value.some((v) => v === unknownValue));
}

/** Input problems, each naming the property. With `skipUnknown`, values not known yet are not judged. */
export function troveAccessFailures(inputs: TroveAccessInputs, skipUnknown: boolean): pulumi.dynamic.CheckFailure[] {
  const judge = (value: unknown) => !(skipUnknown && isUnknown(value));
  const failures: pulumi.dynamic.CheckFailure[] = [];
  if (judge(inputs.instanceId) && (typeof inputs.instanceId !== "string" || inputs.instanceId === "")) {
    failures.push({ property: "instanceId", reason: "the database instance id is empty" });
  }
  if (judge(inputs.isPublic) && typeof inputs.isPublic !== "boolean") {
    failures.push({ property: "isPublic", reason: `must be true or false, got ${JSON.stringify(inputs.isPublic)}` });
  }
  if (judge(inputs.allowedCidrs)) {
    if (!Array.isArray(inputs.allowedCidrs) || !inputs.allowedCidrs.every((c) => typeof c === "string")) {
      failures.push({ property: "allowedCidrs", reason: "must be a list of IPv4 CIDRs" });
    } else {
      for (const problem of allowedCidrProblems(inputs.allowedCidrs)) failures.push({ property: "allowedCidrs", reason: problem });
    }
  }
  if (judge(inputs.timeoutMinutes) && !(Number.isInteger(inputs.timeoutMinutes) && inputs.timeoutMinutes > 0)) {
    failures.push({ property: "timeoutMinutes", reason: `must be a positive whole number, got ${JSON.stringify(inputs.timeoutMinutes)}` });
  }
  return failures;
}

export function troveAccessDiff(olds: TroveAccessOutputs, news: TroveAccessInputs): pulumi.dynamic.DiffResult {
  // Another instance is another resource. An id the engine does not know yet means the instance is being replaced.
  const replaces = isUnknown(news.instanceId) || olds.instanceId !== news.instanceId ? ["instanceId"] : [];
  const accessChanged =
    isUnknown(news.isPublic) ||
    isUnknown(news.allowedCidrs) ||
    !sameAccess({ isPublic: olds.isPublic, allowedCidrs: olds.allowedCidrs }, { isPublic: news.isPublic, allowedCidrs: news.allowedCidrs });
  const settingsChanged = JSON.stringify(olds.auth) !== JSON.stringify(news.auth) || olds.timeoutMinutes !== news.timeoutMinutes;
  return { changes: replaces.length > 0 || accessChanged || settingsChanged, replaces, deleteBeforeReplace: false };
}

function rejectInvalid(inputs: TroveAccessInputs): void {
  const failures = troveAccessFailures(inputs, false);
  if (failures.length > 0) {
    throw new Error(`access of database instance ${inputs.instanceName}: ${failures.map((f) => `${f.property}: ${f.reason}`).join("; ")}`);
  }
}

function outputsOf(inputs: TroveAccessInputs, instance: TroveInstanceRecord): TroveAccessOutputs {
  return { ...inputs, publicAddress: publicAddressOf(instance) ?? "" };
}

export function makeTroveAccessProvider(options: TroveAccessProviderOptions = {}): pulumi.dynamic.ResourceProvider {
  const pollIntervalMs = options.pollIntervalMs ?? 10_000;
  const env = options.env ?? (() => process.env);
  const log = options.log ?? ((message: string) => void pulumi.log.info(message));
  const connect = (auth: OpenStackAuthInputs): Promise<TroveClient> => connectTrove(resolveCredentials(auth, env()), options.retry);

  async function apply(inputs: TroveAccessInputs): Promise<TroveAccessOutputs> {
    rejectInvalid(inputs);
    const client = await connect(inputs.auth);
    const wait = { pollIntervalMs, timeoutMs: inputs.timeoutMinutes * 60_000, log };
    const wanted: TroveAccess = { isPublic: inputs.isPublic, allowedCidrs: canonicalCidrs(inputs.allowedCidrs) };
    const reached = (instance: TroveInstanceRecord) =>
      instance.status === "ACTIVE" &&
      sameAccess(accessOf(instance), wanted) &&
      (!wanted.isPublic || publicAddressOf(instance) !== undefined);

    // Trove changes access only on an instance that is up; the instance resource may still be settling.
    const ready = await waitForInstance(client, inputs.instanceId, inputs.instanceName, "ACTIVE", (i) => i.status === "ACTIVE", wait);
    if (reached(ready)) return outputsOf(inputs, ready);
    await putAccess(client, inputs.instanceId, inputs.instanceName, wanted);
    log(`database instance ${inputs.instanceName}: ${wanted.isPublic ? "public" : "private"}, allowing ${wanted.allowedCidrs.join(", ")}`);
    const applied = await waitForInstance(client, inputs.instanceId, inputs.instanceName, "the access is applied", reached, wait);
    return outputsOf(inputs, applied);
  }

  return {
    async check(_olds: TroveAccessInputs, news: TroveAccessInputs) {
      const failures = troveAccessFailures(news, true);
      return failures.length > 0 ? { inputs: news, failures } : { inputs: news };
    },

    async diff(_id: string, olds: TroveAccessOutputs, news: TroveAccessInputs) {
      return troveAccessDiff(olds, news);
    },

    async create(inputs: TroveAccessInputs) {
      const outs = await apply(inputs);
      return { id: inputs.instanceId, outs };
    },

    async read(id: string, props: TroveAccessOutputs) {
      const client = await connect(props.auth);
      const instance = await getInstance(client, id, props.instanceName);
      // Gone with its instance: refresh drops it, and the next `up` sets the access of the new instance.
      if (!instance) return {};
      const current = accessOf(instance);
      return {
        id,
        props: {
          ...props,
          isPublic: current.isPublic,
          allowedCidrs: [...current.allowedCidrs],
          publicAddress: publicAddressOf(instance) ?? "",
        },
      };
    },

    async update(_id: string, _olds: TroveAccessOutputs, news: TroveAccessInputs) {
      return { outs: await apply(news) };
    },

    async delete(id: string, props: TroveAccessOutputs) {
      log(`database instance ${props.instanceName} (${id}): access left as it is; it goes with the instance`);
    },
  };
}
