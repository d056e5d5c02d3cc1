/**
 * STAND-IN for the Kubernetes API server (a real one cannot run here). It is a real HTTPS server with real
 * mutual TLS and follows kube-apiserver's published behaviour for the two endpoints the readiness gate uses:
 *  - the TLS handshake asks for a client certificate but does not require one; authentication happens per
 *    request: a certificate that does not chain to the client CA gets 401 with a `Status` object;
 *  - authorisation: only O=system:masters may list nodes (403 `Status` otherwise);
 *  - GET /readyz answers 200 "ok", or 500 with "[-]<check> failed" lines while starting;
 *  - GET /api/v1/nodes answers a `NodeList` whose items carry a `Ready` condition.
 */
import * as https from "https";
import type { AddressInfo } from "net";
import type { TLSSocket } from "tls";

export interface FakeNode {
  readonly name: string;
  readonly ready: boolean;
}

export interface ApiState {
  readonly readyz: "ok" | "starting";
  readonly nodes: FakeNode[];
}

export interface FakeKubeApiOptions {
  readonly servingCertPem: string;
  readonly servingKeyPem: string;
  /** Bundle of CAs whose client certificates authenticate (k3s: client-ca.crt). */
  readonly clientCaPem: string;
  /** What the API reports for the n-th request (0-based), so tests script a bootstrap deterministically. */
  readonly state: (requestIndex: number) => ApiState;
  /** How long each answer takes (a loaded or distant API server); 0 by default. */
  readonly responseDelayMs?: number;
}

export interface FakeKubeApi {
  readonly port: number;
  readonly requests: { path: string; status: number; user?: string }[];
  close(): Promise<void>;
}

function status(code: number, reason: string, message: string): string {
  return JSON.stringify({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code });
}

function nodeList(nodes: FakeNode[]): string {
  return JSON.stringify({
    kind: "NodeList",
    apiVersion: "v1",
    metadata: { resourceVersion: "1" },
    items: nodes.map((n) => ({
      metadata: { name: n.name },
      status: {
        conditions: [
          { type: "MemoryPressure", status: "False" },
          { type: "Ready", status: n.ready ? "True" : "False", reason: n.ready ? "KubeletReady" : "KubeletNotReady" },
        ],
      },
    })),
  });
}

export async function startFakeKubeApi(options: FakeKubeApiOptions, port = 0): Promise<FakeKubeApi> {
  const requests: FakeKubeApi["requests"] = [];
  const server = https.createServer(
    { key: options.servingKeyPem, cert: options.servingCertPem, ca: options.clientCaPem, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      const socket = req.socket as TLSSocket;
      const state = options.state(requests.length);
      const send = (code: number, body: string, type = "application/json") => {
        requests.push({ path: req.url ?? "", status: code, user: socket.authorized ? socket.getPeerCertificate().subject?.CN : undefined });
        const answer = () => {
          if (res.destroyed) return;
          res.writeHead(code, { "content-type": type });
          res.end(body);
        };
        if (options.responseDelayMs) setTimeout(answer, options.responseDelayMs);
        else answer();
      };
      if (!socket.authorized) return send(401, status(401, "Unauthorized", "Unauthorized"));
      const subject = socket.getPeerCertificate().subject;
      const groups = ([] as string[]).concat(subject?.O ?? []);
      if (req.url === "/readyz") {
        return state.readyz === "ok"
          ? send(200, "ok", "text/plain")
          : send(
              500,
              "[+]ping ok\n[-]poststarthook/rbac/bootstrap-roles failed: reason withheld\n[-]etcd failed: reason withheld\nreadyz check failed\n",
              "text/plain",
            );
      }
      if (req.url === "/api/v1/nodes") {
        if (!groups.includes("system:masters")) {
          return send(
            403,
            status(
              403,
              "Forbidden",
              `nodes is forbidden: User "${subject?.CN}" cannot list resource "nodes" in API group "" at the cluster scope`,
            ),
          );
        }
        return send(200, nodeList(state.nodes));
      }
      return send(404, status(404, "NotFound", "the server could not find the requested resource"));
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port that nothing listens on right now (bound and released), for "connection refused" phases. */
export async function freePort(): Promise<number> {
  const net = await import("net");
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}
