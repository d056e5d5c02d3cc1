/**
 * The readiness gate as a Pulumi dynamic resource: creating it blocks `pulumi up` until the cluster answers
 * and every node is Ready, so Kubernetes resources that depend on it never race a booting cluster.
 * It waits again whenever the API address, the node set or the credentials change (for example after a node
 * is replaced); other updates only record the new settings.
 *
 * On a new stack the API address, the CAs and the admin certificate are unknown during the preview: `check` and
 * `diff` accept unknown values and judge only the known ones; `create` and `update` validate everything.
 */
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { assertValid, containsUnknown, failuresOfKnownValues } from "../unknown-values";
import { ReadinessTarget, validateReadinessTarget, waitForClusterReady } from "./readiness-api";

export interface K3sReadinessInputs extends ReadinessTarget {
  readonly nodeIds: string[];
}

/** What the gate records in state; no key material, only fingerprints to notice credential changes. */
export interface K3sReadinessOutputs {
  readonly server: string;
  readonly expectedNodes: number;
  readonly timeoutSeconds: number;
  readonly pollIntervalSeconds: number;
  readonly nodeIds: string[];
  readonly readyNodes: string[];
  readonly caSha256: string;
  readonly clientCertSha256: string;
}

export const DEFAULT_POLL_INTERVAL_SECONDS = 10;

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return JSON.stringify([...(a ?? [])].sort()) === JSON.stringify([...(b ?? [])].sort());
}

/**
 * The inputs whose change means the cluster behind the gate may be a different one. An unknown value (a preview
 * before a node or certificate is replaced) counts as changed: the update will wait.
 */
export function changesNeedingWait(olds: K3sReadinessOutputs, news: K3sReadinessInputs): string[] {
  const changed: string[] = [];
  const differs = (key: keyof K3sReadinessInputs, same: () => boolean) => {
    if (containsUnknown(news[key]) || !same()) changed.push(key);
  };
  differs("server", () => olds.server === news.server);
  differs("expectedNodes", () => olds.expectedNodes === news.expectedNodes);
  differs("nodeIds", () => sameList(olds.nodeIds, news.nodeIds));
  differs("caPem", () => olds.caSha256 === sha256(news.caPem));
  differs("clientCertPem", () => olds.clientCertSha256 === sha256(news.clientCertPem));
  return changed;
}

/** Every problem with the inputs, each naming its property; unknown values are problems here. */
export function readinessInputFailures(news: K3sReadinessInputs): pulumi.dynamic.CheckFailure[] {
  const target = { ...news, pollIntervalSeconds: news.pollIntervalSeconds ?? DEFAULT_POLL_INTERVAL_SECONDS };
  const failures = validateReadinessTarget(target).map((reason) => ({ property: reason.split(" ")[0], reason }));
  if (!Array.isArray(news.nodeIds) || !news.nodeIds.every((id) => typeof id === "string" && id !== "")) {
    failures.push({ property: "nodeIds", reason: `nodeIds must be a list of instance ids, got ${JSON.stringify(news.nodeIds)}` });
  }
  return failures;
}

function outputs(inputs: K3sReadinessInputs, readyNodes: string[]): K3sReadinessOutputs {
  return {
    server: inputs.server,
    expectedNodes: inputs.expectedNodes,
    timeoutSeconds: inputs.timeoutSeconds,
    pollIntervalSeconds: inputs.pollIntervalSeconds,
    nodeIds: inputs.nodeIds,
    readyNodes,
    caSha256: sha256(inputs.caPem),
    clientCertSha256: sha256(inputs.clientCertPem),
  };
}

// Progress goes to the provider host's stdout, which the Pulumi engine shows as the resource's diagnostics.
function report(message: string): void {
  console.log(message);
}

export const k3sReadinessProvider: pulumi.dynamic.ResourceProvider = {
  async check(_olds: K3sReadinessInputs, news: K3sReadinessInputs) {
    return {
      inputs: { ...news, pollIntervalSeconds: news.pollIntervalSeconds ?? DEFAULT_POLL_INTERVAL_SECONDS },
      failures: failuresOfKnownValues(readinessInputFailures(news), news),
    };
  },

  async create(inputs: K3sReadinessInputs) {
    assertValid("k3s readiness gate", readinessInputFailures(inputs));
    const ready = await waitForClusterReady(inputs, report);
    return { id: `k3s-ready-${sha256(inputs.server).slice(0, 16)}`, outs: outputs(inputs, ready.readyNodes) };
  },

  async diff(_id: string, olds: K3sReadinessOutputs, news: K3sReadinessInputs) {
    const waitFor = changesNeedingWait(olds, news);
    const settings = olds.timeoutSeconds !== news.timeoutSeconds || olds.pollIntervalSeconds !== news.pollIntervalSeconds;
    return { changes: waitFor.length > 0 || settings, replaces: [], deleteBeforeReplace: false };
  },

  async update(_id: string, olds: K3sReadinessOutputs, news: K3sReadinessInputs) {
    assertValid("k3s readiness gate", readinessInputFailures(news));
    if (changesNeedingWait(olds, news).length === 0) return { outs: outputs(news, olds.readyNodes) };
    const ready = await waitForClusterReady(news, report);
    return { outs: outputs(news, ready.readyNodes) };
  },
};
