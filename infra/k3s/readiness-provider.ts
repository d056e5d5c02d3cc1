/**
 * The readiness gate as a Pulumi dynamic resource: creating it blocks `pulumi up` until the cluster answers
 * and every node is Ready, so Kubernetes resources that depend on it never race a booting cluster.
 * It waits again whenever the API address, the node set or the credentials change (for example after a node
 * is replaced); other updates only record the new settings.
 */
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
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

/** The inputs whose change means the cluster behind the gate may be a different one. */
export function changesNeedingWait(olds: K3sReadinessOutputs, news: K3sReadinessInputs): string[] {
  const changed: string[] = [];
  if (olds.server !== news.server) changed.push("server");
  if (olds.expectedNodes !== news.expectedNodes) changed.push("expectedNodes");
  if (!sameList(olds.nodeIds, news.nodeIds)) changed.push("nodeIds");
  if (olds.caSha256 !== sha256(news.caPem)) changed.push("caPem");
  if (olds.clientCertSha256 !== sha256(news.clientCertPem)) changed.push("clientCertPem");
  return changed;
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
    const problems = validateReadinessTarget({ ...news, pollIntervalSeconds: news.pollIntervalSeconds ?? DEFAULT_POLL_INTERVAL_SECONDS });
    return {
      inputs: { ...news, pollIntervalSeconds: news.pollIntervalSeconds ?? DEFAULT_POLL_INTERVAL_SECONDS },
      failures: problems.map((reason) => ({ property: reason.split(" ")[0], reason })),
    };
  },

  async create(inputs: K3sReadinessInputs) {
    const ready = await waitForClusterReady(inputs, report);
    return { id: `k3s-ready-${sha256(inputs.server).slice(0, 16)}`, outs: outputs(inputs, ready.readyNodes) };
  },

  async diff(_id: string, olds: K3sReadinessOutputs, news: K3sReadinessInputs) {
    const waitFor = changesNeedingWait(olds, news);
    const settings = olds.timeoutSeconds !== news.timeoutSeconds || olds.pollIntervalSeconds !== news.pollIntervalSeconds;
    return { changes: waitFor.length > 0 || settings, replaces: [], deleteBeforeReplace: false };
  },

  async update(_id: string, olds: K3sReadinessOutputs, news: K3sReadinessInputs) {
    if (changesNeedingWait(olds, news).length === 0) return { outs: outputs(news, olds.readyNodes) };
    const ready = await waitForClusterReady(news, report);
    return { outs: outputs(news, ready.readyNodes) };
  },
};
