/**
 * Waits until the k3s API answers /readyz over mutual TLS with the admin certificate and the expected number
 * of nodes report Ready, reporting each change of state and failing with what it last saw.
 *
 * This module runs inside Pulumi's dynamic-provider host after closure serialisation, so it uses only Node
 * built-ins and plain functions (no classes, no imports from the rest of the program).
 */
import * as https from "https";
import { pollUntil } from "../../worker/src/backoff";

export interface ReadinessTarget {
  /** https://<host>:<port> of the Kubernetes API. */
  readonly server: string;
  /** PEM bundle that verifies the API's serving certificate. */
  readonly caPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
  readonly expectedNodes: number;
  readonly timeoutSeconds: number;
  readonly pollIntervalSeconds: number;
}

export type Observation =
  | { readonly kind: "unreachable"; readonly detail: string }
  | { readonly kind: "tls"; readonly detail: string }
  | { readonly kind: "rejected"; readonly status: number; readonly detail: string }
  | { readonly kind: "not-ready"; readonly detail: string }
  | { readonly kind: "nodes"; readonly ready: string[]; readonly notReady: string[] };

export interface ReadyCluster {
  readonly readyNodes: string[];
  readonly checks: number;
}

/** Consecutive 401/403 answers after which waiting longer cannot help. */
export const REJECTIONS_BEFORE_GIVING_UP = 3;

interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

// Node's TLS verification and handshake failures; anything else on the socket counts as "unreachable".
const TLS_ERROR_CODES: readonly string[] = [
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_SIGNATURE_FAILURE",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "EPROTO",
];

function isTlsError(err: NodeJS.ErrnoException): boolean {
  const code = err.code ?? "";
  return (
    TLS_ERROR_CODES.includes(code) ||
    code.startsWith("ERR_SSL_") ||
    code.startsWith("ERR_TLS_") ||
    /alert|certificate|handshake/i.test(err.message)
  );
}

function get(target: ReadinessTarget, path: string, timeoutMs: number): Promise<HttpAnswer> {
  const url = new URL(path, target.server);
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        method: "GET",
        protocol: "https:",
        hostname: url.hostname.replace(/^\[|\]$/g, ""),
        port: url.port || 443,
        path: url.pathname,
        headers: { accept: "application/json" },
        ca: target.caPem,
        cert: target.clientCertPem,
        key: target.clientKeyPem,
        // A fresh connection per check: a pooled socket would hide a server that stopped accepting new ones.
        agent: false,
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(Object.assign(new Error(`no answer within ${timeoutMs} ms`), { code: "ETIMEDOUT" })));
    req.on("error", reject);
    req.end();
  });
}

function statusMessage(answer: HttpAnswer): string {
  try {
    const status = JSON.parse(answer.body) as { message?: unknown };
    if (typeof status.message === "string") return status.message;
  } catch {
    // not a Kubernetes Status object
  }
  return answer.body.trim().slice(0, 200);
}

function failedReadyzChecks(body: string): string {
  const failed = body
    .split("\n")
    .filter((line) => line.startsWith("[-]"))
    .map((line) => line.slice(3).split(" ")[0]);
  return failed.length > 0 ? `failing checks: ${failed.join(", ")}` : body.trim().slice(0, 200);
}

interface NodeList {
  items?: { metadata?: { name?: string }; status?: { conditions?: { type?: string; status?: string }[] } }[];
}

export function readyNodes(nodeList: NodeList): { ready: string[]; notReady: string[] } {
  const ready: string[] = [];
  const notReady: string[] = [];
  for (const item of nodeList.items ?? []) {
    const name = item.metadata?.name ?? "(unnamed)";
    const isReady = (item.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
    (isReady ? ready : notReady).push(name);
  }
  return { ready: ready.sort(), notReady: notReady.sort() };
}

function rejection(answer: HttpAnswer, path: string): Observation | undefined {
  if (answer.status === 401 || answer.status === 403) {
    return { kind: "rejected", status: answer.status, detail: `${path} answered ${answer.status}: ${statusMessage(answer)}` };
  }
  return undefined;
}

/** One look at the cluster: /readyz first, then the node list. */
export async function observeCluster(target: ReadinessTarget, requestTimeoutMs: number): Promise<Observation> {
  try {
    const readyz = await get(target, "/readyz", requestTimeoutMs);
    const rejected = rejection(readyz, "/readyz");
    if (rejected) return rejected;
    if (readyz.status !== 200)
      return { kind: "not-ready", detail: `/readyz answered ${readyz.status} (${failedReadyzChecks(readyz.body)})` };

    const nodes = await get(target, "/api/v1/nodes", requestTimeoutMs);
    const nodesRejected = rejection(nodes, "/api/v1/nodes");
    if (nodesRejected) return nodesRejected;
    if (nodes.status !== 200) return { kind: "not-ready", detail: `/api/v1/nodes answered ${nodes.status}: ${statusMessage(nodes)}` };
    let list: NodeList;
    try {
      list = JSON.parse(nodes.body) as NodeList;
    } catch {
      return { kind: "not-ready", detail: "/api/v1/nodes answered with something that is not JSON" };
    }
    return { kind: "nodes", ...readyNodes(list) };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const detail = err.code && !err.message.includes(err.code) ? `${err.code}: ${err.message}` : err.message;
    return isTlsError(err) ? { kind: "tls", detail } : { kind: "unreachable", detail };
  }
}

export function describeObservation(o: Observation, expectedNodes: number): string {
  switch (o.kind) {
    case "unreachable":
      return `API unreachable (${o.detail})`;
    case "tls":
      return `TLS error (${o.detail})`;
    case "rejected":
      return `admin certificate rejected (${o.detail})`;
    case "not-ready":
      return `API not ready (${o.detail})`;
    case "nodes":
      return `${o.ready.length}/${expectedNodes} nodes Ready${o.ready.length > 0 ? ` (${o.ready.join(", ")})` : ""}${o.notReady.length > 0 ? `; not Ready: ${o.notReady.join(", ")}` : ""}`;
  }
}

function hint(o: Observation): string {
  switch (o.kind) {
    case "unreachable":
      return "Check that the floating IP is associated with node1, that adminCidr includes this machine, and node1's boot progress with `openstack console log show <node1>`.";
    case "tls":
      return "The API's certificate does not verify against this stack's server CA: the cluster was bootstrapped with other CAs (nodes keep the PKI they first booted with; see docs/changes.md on CA rotation), or the address is not in tls-san.";
    case "rejected":
      return "The API does not accept this stack's admin certificate: the nodes were bootstrapped with a different client CA (see docs/changes.md on CA rotation).";
    case "not-ready":
      return "k3s is still starting or failing; see node1's console log (`openstack console log show <node1>`).";
    case "nodes":
      return "Nodes that are missing or not Ready: check their console logs (`openstack console log show <node>`); an agent replaced under the same name needs `kubectl delete node <name>` first (see docs/changes.md).";
  }
}

function isDone(o: Observation, expectedNodes: number): boolean {
  return o.kind === "nodes" && o.ready.length >= expectedNodes;
}

export function validateReadinessTarget(t: ReadinessTarget): string[] {
  const problems: string[] = [];
  if (!/^https:\/\/[^/]+$/.test(t.server)) problems.push(`server must be https://<host>:<port>, got "${t.server}"`);
  if (!Number.isInteger(t.expectedNodes) || t.expectedNodes < 1)
    problems.push(`expectedNodes must be a positive whole number, got ${t.expectedNodes}`);
  if (!(t.timeoutSeconds > 0)) problems.push(`timeoutSeconds must be positive, got ${t.timeoutSeconds}`);
  if (!(t.pollIntervalSeconds > 0)) problems.push(`pollIntervalSeconds must be positive, got ${t.pollIntervalSeconds}`);
  for (const key of ["caPem", "clientCertPem", "clientKeyPem"] as const) {
    if (!t[key].includes("-----BEGIN ")) problems.push(`${key} must be PEM text`);
  }
  return problems;
}

/**
 * Polls until the cluster is ready or `timeoutSeconds` pass. `report` receives a line whenever what is seen
 * changes, and a heartbeat while it does not, so a long bootstrap is visibly alive in `pulumi up`.
 */
/** The shortest request timeout a check gets, whatever is left of the deadline. */
export const MIN_CHECK_TIMEOUT_MS = 1000;

export async function waitForClusterReady(target: ReadinessTarget, report: (message: string) => void): Promise<ReadyCluster> {
  const problems = validateReadinessTarget(target);
  if (problems.length > 0) throw new Error(`k3s readiness gate: ${problems.join("; ")}`);

  const started = Date.now();
  const deadline = started + target.timeoutSeconds * 1000;
  const intervalMs = target.pollIntervalSeconds * 1000;
  const requestTimeoutMs = Math.max(1000, Math.min(10_000, intervalMs * 2));
  const heartbeatMs = 60_000;
  let last: string | undefined;
  let lastReportAt = 0;
  let rejections = 0;
  let checks = 0;
  let observation: Observation = { kind: "unreachable", detail: "not checked yet" };

  let description = "";
  return pollUntil<ReadyCluster>(
    async () => {
      // Even a check that starts just before the deadline gets a real request timeout: one clamped to the few
      // milliseconds left would time out and replace what the gate last saw (e.g. "2/3 nodes Ready") with
      // "unreachable" in the final message. The gate may overrun its deadline by at most this much.
      observation = await observeCluster(target, Math.min(requestTimeoutMs, Math.max(MIN_CHECK_TIMEOUT_MS, deadline - Date.now())));
      checks += 1;
      description = describeObservation(observation, target.expectedNodes);
      const elapsed = Math.round((Date.now() - started) / 1000);
      if (description !== last || Date.now() - lastReportAt >= heartbeatMs) {
        report(`k3s ${target.server}: ${description} [${elapsed}s]`);
        last = description;
        lastReportAt = Date.now();
      }
      if (isDone(observation, target.expectedNodes)) {
        return { readyNodes: observation.kind === "nodes" ? observation.ready : [], checks };
      }
      rejections = observation.kind === "rejected" ? rejections + 1 : 0;
      if (rejections >= REJECTIONS_BEFORE_GIVING_UP) {
        throw new Error(
          `k3s API at ${target.server} rejected the admin certificate ${rejections} times in a row: ${description}. ${hint(observation)}`,
        );
      }
      return undefined;
    },
    {
      intervalMs,
      deadline,
      timedOut: () =>
        new Error(
          `k3s API at ${target.server} was not ready after ${target.timeoutSeconds}s (${checks} checks). Last seen: ${description}. ${hint(observation)} ` +
            "Raise image-pipeline:k3sReadyTimeoutSeconds if the nodes are just slow to boot.",
        ),
    },
  );
}
