/**
 * A read-only Kubernetes API client from a kubeconfig, over HTTPS with the kubeconfig's client certificate (or
 * bearer token): what `kubectl get` does for the two objects verify reads, without needing kubectl.
 */
import https from "node:https";
import { parse } from "yaml";

export interface KubeClient {
  readonly server: string;
  get<T>(path: string): Promise<T>;
}

interface Named<T> {
  readonly name: string;
  readonly [k: string]: unknown;
  readonly cluster?: T;
  readonly user?: T;
  readonly context?: T;
}

const b64 = (v: unknown): Buffer | undefined => (typeof v === "string" ? Buffer.from(v, "base64") : undefined);

/** The current context's server, CA and credentials. Throws naming what is missing. */
export function kubeClientFrom(kubeconfigYaml: string): KubeClient {
  const doc = parse(kubeconfigYaml) as {
    "current-context"?: string;
    contexts?: Named<{ cluster: string; user: string }>[];
    clusters?: Named<{ server: string; "certificate-authority-data"?: string; "insecure-skip-tls-verify"?: boolean }>[];
    users?: Named<{ "client-certificate-data"?: string; "client-key-data"?: string; token?: string }>[];
  };
  const contextName = doc["current-context"] ?? doc.contexts?.[0]?.name;
  const context = doc.contexts?.find((c) => c.name === contextName)?.context;
  if (!context) throw new Error(`kubeconfig: no context '${contextName ?? ""}'`);
  const cluster = doc.clusters?.find((c) => c.name === context.cluster)?.cluster;
  const user = doc.users?.find((u) => u.name === context.user)?.user;
  if (!cluster?.server) throw new Error(`kubeconfig: cluster '${context.cluster}' has no server`);
  if (!user) throw new Error(`kubeconfig: no user '${context.user}'`);
  const agent = new https.Agent({
    ca: b64(cluster["certificate-authority-data"]),
    cert: b64(user["client-certificate-data"]),
    key: b64(user["client-key-data"]),
    keepAlive: true,
    maxSockets: 2,
  });
  const server = cluster.server.replace(/\/$/, "");
  return {
    server,
    get<T>(path: string): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const req = https.request(
          `${server}${path}`,
          {
            method: "GET",
            agent,
            headers: { Accept: "application/json", ...(user.token ? { Authorization: `Bearer ${user.token}` } : {}) },
            timeout: 10_000,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => {
              const text = Buffer.concat(chunks).toString("utf8");
              if (res.statusCode !== 200) {
                let message = text.slice(0, 200);
                try {
                  message = (JSON.parse(text) as { message?: string }).message ?? message;
                } catch {
                  // not a Status object
                }
                reject(new Error(`GET ${path}: ${res.statusCode} ${message}`));
                return;
              }
              try {
                resolve(JSON.parse(text) as T);
              } catch (err) {
                reject(new Error(`GET ${path}: not JSON (${(err as Error).message})`));
              }
            });
          },
        );
        req.on("timeout", () => req.destroy(new Error(`GET ${path}: timed out`)));
        req.on("error", reject);
        req.end();
      });
    },
  };
}
