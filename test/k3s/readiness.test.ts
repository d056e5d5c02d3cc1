/**
 * The readiness gate against a real HTTPS server with mutual TLS (a stand-in for the Kubernetes API, see
 * support/fake-kube-api.ts), using real certificates from the k3s PKI specs and the kubeconfig the program
 * builds. The server address is 127.0.0.1 playing the floating IP: its serving certificate carries exactly
 * the tls-san list of the rendered k3s server config.
 */
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { unknownValue } from "@pulumi/pulumi/runtime/rpc";
import { serverConfig } from "../../infra/k3s/k3s-config";
import { kubeconfigObject } from "../../infra/k3s/kubeconfig";
import { changesNeedingWait, K3sReadinessInputs, K3sReadinessOutputs, k3sReadinessProvider } from "../../infra/k3s/readiness-provider";
import { ReadinessTarget, readyNodes, waitForClusterReady } from "../../infra/k3s/readiness-api";
import { serverCaBundle } from "../../infra/k3s/server-tls";
import { ApiState, FakeKubeApi, FakeNode, freePort, startFakeKubeApi } from "./support/fake-kube-api";
import { buildPkiWithOpenssl, issue, KeyAndCert, OpensslPki } from "./support/openssl-pki";

const CLUSTER = "ip-gate";
const NODES = ["ip-gate-node1", "ip-gate-node2", "ip-gate-node3"];
const nodes = (readyCount: number): FakeNode[] => NODES.map((name, i) => ({ name, ready: i < readyCount }));

let pki: OpensslPki;
let serving: KeyAndCert;
let servers: FakeKubeApi[] = [];

beforeAll(() => {
  pki = buildPkiWithOpenssl(CLUSTER);
  const sans = serverConfig({ token: "unused", agentTokenPassword: "unused", nodeIp: "192.168.1.11", floatingIp: "127.0.0.1" })["tls-san"];
  serving = issue(
    pki.dir,
    "serving",
    {
      commonName: "k3s",
      key: { algorithm: "ECDSA", ecdsaCurve: "P256" },
      allowedUses: ["digital_signature", "key_encipherment", "server_auth"],
      isCa: false,
      validityHours: 24,
    },
    pki.cas.server,
    { ips: sans },
  );
});
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});
afterAll(() => fs.rmSync(pki.dir, { recursive: true, force: true }));

async function startApi(state: (i: number) => ApiState, port = 0, responseDelayMs = 0): Promise<FakeKubeApi> {
  const api = await startFakeKubeApi(
    {
      servingCertPem: serving.certPem,
      servingKeyPem: serving.keyPem,
      clientCaPem: [pki.cas.client.certPem, pki.cas.intermediate.certPem, pki.cas.root.certPem].join(""),
      state,
      responseDelayMs,
    },
    port,
  );
  servers.push(api);
  return api;
}

/** The gate's target exactly as the program derives it: from the kubeconfig it exports. */
function targetFromKubeconfig(port: number, overrides: Partial<ReadinessTarget> = {}): ReadinessTarget {
  const kc = kubeconfigObject({
    clusterName: CLUSTER,
    server: `https://127.0.0.1:${port}`,
    caBundlePem: serverCaBundle(pki.material),
    clientCertPem: pki.admin.certPem,
    clientKeyPem: pki.admin.keyPem,
  });
  const decode = (b64: string) => Buffer.from(b64, "base64").toString("utf8");
  return {
    server: kc.clusters[0].cluster.server,
    caPem: decode(kc.clusters[0].cluster["certificate-authority-data"]),
    clientCertPem: decode(kc.users[0].user["client-certificate-data"]),
    clientKeyPem: decode(kc.users[0].user["client-key-data"]),
    expectedNodes: 3,
    timeoutSeconds: 30,
    pollIntervalSeconds: 0.05,
    ...overrides,
  };
}

/** Refusing at first, then /readyz failing twice, then 2 of 3 nodes Ready twice, then all Ready. */
function bootstrapSequence(i: number): ApiState {
  if (i < 2) return { readyz: "starting", nodes: [] };
  // Each check after /readyz passes makes two requests: /readyz then /api/v1/nodes.
  if (i < 6) return { readyz: "ok", nodes: nodes(2) };
  return { readyz: "ok", nodes: nodes(3) };
}

describe("readiness gate", () => {
  test("waits through connection refused, a starting API and 2/3 Ready nodes, and succeeds when all are Ready", async () => {
    const port = await freePort();
    const reports: string[] = [];
    let starting: Promise<FakeKubeApi> | undefined;
    const result = await waitForClusterReady(targetFromKubeconfig(port), (message) => {
      reports.push(message);
      // The API comes up only after the gate has seen it refuse connections.
      if (/ECONNREFUSED/.test(message)) starting ??= startApi(bootstrapSequence, port);
    });
    const api = await starting;

    expect(result.readyNodes).toEqual(NODES);
    const phases = reports.map((r) => r.replace(/ \[\d+s\]$/, "").replace(`k3s https://127.0.0.1:${port}: `, ""));
    expect(phases[0]).toMatch(/^API unreachable \(.*ECONNREFUSED/);
    expect(phases.slice(-3)).toEqual([
      "API not ready (/readyz answered 500 (failing checks: poststarthook/rbac/bootstrap-roles, etcd))",
      "2/3 nodes Ready (ip-gate-node1, ip-gate-node2); not Ready: ip-gate-node3",
      "3/3 nodes Ready (ip-gate-node1, ip-gate-node2, ip-gate-node3)",
    ]);
    // Every request authenticated with the admin certificate over mutual TLS.
    expect(new Set(api?.requests.map((r) => r.user))).toEqual(new Set([`${CLUSTER}-admin`]));
  });

  test("times out with the last state it saw: 2/3 nodes Ready and which node is not", async () => {
    const api = await startApi(() => ({ readyz: "ok", nodes: nodes(2) }));
    await expect(waitForClusterReady(targetFromKubeconfig(api.port, { timeoutSeconds: 1 }), () => undefined)).rejects.toThrow(
      /was not ready after 1s \(\d+ checks\)\. Last seen: 2\/3 nodes Ready \(ip-gate-node1, ip-gate-node2\); not Ready: ip-gate-node3\. .*openstack console log show/,
    );
  });

  test("a check that starts just before the deadline still gets a real timeout, so the message keeps what the gate saw", async () => {
    // Each answer takes 400 ms: the third check starts about 100 ms before the 1 s deadline. Given only those
    // 100 ms it would time out and the message would say "unreachable" instead of the nodes it saw.
    const api = await startApi(() => ({ readyz: "ok", nodes: nodes(2) }), 0, 400);
    await expect(waitForClusterReady(targetFromKubeconfig(api.port, { timeoutSeconds: 1 }), () => undefined)).rejects.toThrow(
      /was not ready after 1s \(\d+ checks\)\. Last seen: 2\/3 nodes Ready/,
    );
  });

  test("times out naming connection refused when nothing ever listens", async () => {
    const port = await freePort();
    await expect(waitForClusterReady(targetFromKubeconfig(port, { timeoutSeconds: 0.5 }), () => undefined)).rejects.toThrow(
      /Last seen: API unreachable \(.*ECONNREFUSED.*\)\. Check that the floating IP is associated with node1/,
    );
  });

  test("a client certificate from another CA is rejected with 401 and the gate stops early", async () => {
    const api = await startApi(() => ({ readyz: "ok", nodes: nodes(3) }));
    const strangerCa = issue(pki.dir, "stranger-ca", {
      commonName: "stranger-ca",
      key: { algorithm: "ECDSA", ecdsaCurve: "P256" },
      allowedUses: ["cert_signing"],
      isCa: true,
      validityHours: 24,
    });
    const stranger = issue(
      pki.dir,
      "stranger",
      {
        commonName: "mallory",
        organization: "system:masters",
        key: { algorithm: "ECDSA", ecdsaCurve: "P256" },
        allowedUses: ["client_auth"],
        isCa: false,
        validityHours: 24,
      },
      strangerCa,
    );
    const target = targetFromKubeconfig(api.port, { clientCertPem: stranger.certPem, clientKeyPem: stranger.keyPem, timeoutSeconds: 30 });
    await expect(waitForClusterReady(target, () => undefined)).rejects.toThrow(
      /rejected the admin certificate 3 times in a row: .*\/readyz answered 401: Unauthorized/,
    );
    expect(api.requests.map((r) => r.status)).toEqual([401, 401, 401]);
  });

  test("a certificate from the right CA without O=system:masters cannot list nodes (403)", async () => {
    const api = await startApi(() => ({ readyz: "ok", nodes: nodes(3) }));
    const viewer = issue(
      pki.dir,
      "viewer",
      {
        commonName: "viewer",
        key: { algorithm: "ECDSA", ecdsaCurve: "P256" },
        allowedUses: ["client_auth"],
        isCa: false,
        validityHours: 24,
      },
      pki.cas.client,
    );
    await expect(
      waitForClusterReady(targetFromKubeconfig(api.port, { clientCertPem: viewer.certPem, clientKeyPem: viewer.keyPem }), () => undefined),
    ).rejects.toThrow(/\/api\/v1\/nodes answered 403: nodes is forbidden: User "viewer" cannot list resource "nodes"/);
  });

  test("an API whose certificate this stack's CA does not verify is a TLS error, never trusted", async () => {
    const api = await startApi(() => ({ readyz: "ok", nodes: nodes(3) }));
    const otherCa = issue(pki.dir, "other-server-ca", {
      commonName: "other",
      key: { algorithm: "ECDSA", ecdsaCurve: "P256" },
      allowedUses: ["cert_signing"],
      isCa: true,
      validityHours: 24,
    });
    await expect(
      waitForClusterReady(targetFromKubeconfig(api.port, { caPem: otherCa.certPem, timeoutSeconds: 0.5 }), () => undefined),
    ).rejects.toThrow(
      /Last seen: TLS error \(.*(UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to verify).*\)\. The API's certificate does not verify against this stack's server CA/,
    );
    expect(api.requests).toEqual([]);
  });

  test("bad targets are refused before any connection", async () => {
    await expect(
      waitForClusterReady(targetFromKubeconfig(1, { server: "http://127.0.0.1:1", expectedNodes: 0 }), () => undefined),
    ).rejects.toThrow(
      'k3s readiness gate: server must be https://<host>:<port>, got "http://127.0.0.1:1"; expectedNodes must be a positive whole number, got 0',
    );
  });

  test("readyNodes counts only nodes whose Ready condition is True", () => {
    expect(
      readyNodes({
        items: [
          { metadata: { name: "b" }, status: { conditions: [{ type: "Ready", status: "True" }] } },
          { metadata: { name: "a" }, status: { conditions: [{ type: "Ready", status: "Unknown" }] } },
          { metadata: { name: "c" }, status: { conditions: [{ type: "MemoryPressure", status: "True" }] } },
        ],
      }),
    ).toEqual({ ready: ["b"], notReady: ["a", "c"] });
  });
});

describe("readiness dynamic provider", () => {
  const inputs = (port: number): K3sReadinessInputs => ({ ...targetFromKubeconfig(port), nodeIds: ["i-1", "i-2", "i-3"] });

  test("survives Pulumi's closure serialisation and gates a real create", async () => {
    const api = await startApi(() => ({ readyz: "ok", nodes: nodes(3) }));
    // Exactly what pulumi.dynamic.Resource ships to the provider host, and how the host loads it.
    const serialized = await pulumi.runtime.serializeFunction(() => k3sReadinessProvider, { allowSecrets: true });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const requireFromString = require("require-from-string") as (code: string) => { handler: () => pulumi.dynamic.ResourceProvider };
    const provider = requireFromString(serialized.text).handler();
    // The loaded copy logs through the process's own console (as in the provider host), i.e. to stdout.
    const stdout = jest.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      const created = await provider.create(inputs(api.port));
      expect(created.outs).toMatchObject({
        server: `https://127.0.0.1:${api.port}`,
        expectedNodes: 3,
        readyNodes: NODES,
        nodeIds: ["i-1", "i-2", "i-3"],
      });
      expect(JSON.stringify(created.outs)).not.toContain("PRIVATE KEY");
      expect(stdout.mock.calls.map(([chunk]) => String(chunk)).join("")).toMatch(/3\/3 nodes Ready/);
    } finally {
      stdout.mockRestore();
    }
  });

  test("check reports invalid inputs by property", async () => {
    const result = await k3sReadinessProvider.check!({}, { ...inputs(1), expectedNodes: 0 });
    expect(result.failures).toEqual([{ property: "expectedNodes", reason: "expectedNodes must be a positive whole number, got 0" }]);
  });

  /** What a first preview of a new stack sends: the floating IP, the CAs, the admin certificate and the instances unknown. */
  const preview = (port: number): K3sReadinessInputs => ({
    ...inputs(port),
    server: unknownValue,
    caPem: unknownValue,
    clientCertPem: unknownValue,
    clientKeyPem: unknownValue,
    nodeIds: [unknownValue, unknownValue, unknownValue],
  });

  test("check accepts the values a first preview does not know yet, and still rejects known bad ones", async () => {
    expect((await k3sReadinessProvider.check!({}, preview(1))).failures).toEqual([]);
    expect((await k3sReadinessProvider.check!({}, { ...preview(1), nodeIds: unknownValue as unknown as string[] })).failures).toEqual([]);
    expect((await k3sReadinessProvider.check!({}, { ...preview(1), expectedNodes: 0, timeoutSeconds: -1 })).failures).toEqual([
      { property: "expectedNodes", reason: "expectedNodes must be a positive whole number, got 0" },
      { property: "timeoutSeconds", reason: "timeoutSeconds must be positive, got -1" },
    ]);
  });

  test("diff takes unknown new values as a change that will wait again, without failing", async () => {
    const api = await startApi(() => ({ readyz: "ok", nodes: nodes(3) }));
    const log = jest.spyOn(console, "log").mockImplementation(() => undefined);
    try {
      const olds = (await k3sReadinessProvider.create(inputs(api.port))).outs as K3sReadinessOutputs;
      // A preview in which node1 is being replaced: its id and everything derived from the new instance are unknown.
      const replacing = { ...inputs(api.port), nodeIds: [unknownValue, "i-2", "i-3"] };
      expect(changesNeedingWait(olds, replacing)).toEqual(["nodeIds"]);
      expect(await k3sReadinessProvider.diff!("id", olds, replacing)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
      expect(changesNeedingWait(olds, preview(api.port))).toEqual(["server", "nodeIds", "caPem", "clientCertPem"]);
      // Against no old state (what a first preview could be diffed against) it does not fail either.
      expect(await k3sReadinessProvider.diff!("", {} as K3sReadinessOutputs, preview(api.port))).toMatchObject({ changes: true });
    } finally {
      log.mockRestore();
    }
  });

  test("create and update refuse unknown or invalid inputs before contacting the API", async () => {
    const api = await startApi(() => ({ readyz: "ok", nodes: nodes(3) }));
    await expect(k3sReadinessProvider.create(preview(api.port))).rejects.toThrow(/^k3s readiness gate: server: server must be https/);
    await expect(
      k3sReadinessProvider.update!("id", {} as K3sReadinessOutputs, { ...inputs(api.port), caPem: unknownValue }),
    ).rejects.toThrow(/caPem: caPem must be PEM text/);
    expect(api.requests).toEqual([]);
  });

  test("waits again when the node set, address or credentials change, not for a new timeout", async () => {
    const api = await startApi(() => ({ readyz: "ok", nodes: nodes(3) }));
    const log = jest.spyOn(console, "log").mockImplementation(() => undefined);
    try {
      const created = await k3sReadinessProvider.create(inputs(api.port));
      const olds = created.outs as K3sReadinessOutputs;
      const same = inputs(api.port);
      expect(changesNeedingWait(olds, same)).toEqual([]);
      expect(changesNeedingWait(olds, { ...same, nodeIds: ["i-1", "i-2", "i-9"] })).toEqual(["nodeIds"]);
      expect(changesNeedingWait(olds, { ...same, nodeIds: ["i-3", "i-1", "i-2"] })).toEqual([]);
      expect(changesNeedingWait(olds, { ...same, clientCertPem: pki.cas.client.certPem })).toEqual(["clientCertPem"]);
      expect(changesNeedingWait(olds, { ...same, server: "https://198.51.100.1:6443" })).toEqual(["server"]);
      expect(await k3sReadinessProvider.diff!("id", olds, { ...same, timeoutSeconds: 99 })).toMatchObject({ changes: true, replaces: [] });
      expect(await k3sReadinessProvider.diff!("id", olds, same)).toMatchObject({ changes: false });

      const requestsBefore = api.requests.length;
      await k3sReadinessProvider.update!("id", olds, { ...same, timeoutSeconds: 99 });
      expect(api.requests.length).toBe(requestsBefore);
      await k3sReadinessProvider.update!("id", olds, { ...same, nodeIds: ["i-1", "i-2", "i-9"] });
      expect(api.requests.length).toBeGreaterThan(requestsBefore);
    } finally {
      log.mockRestore();
    }
  });
});
