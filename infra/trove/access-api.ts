/**
 * The part of Trove's v1.0 API that sets who may reach a database instance (docs.openstack.org/api-ref/database/):
 *
 *   GET /v1.0/{project_id}/instances/{id}      the instance, with `access` and `addresses` (type private/public)
 *   PUT /v1.0/{project_id}/instances/{id}      {"instance": {"access": {"is_public", "allowed_cidrs"}}}, 202
 *
 * The update (Trove Victoria and later) replaces the whole access setting. Trove reads a missing `is_public` as
 * private and a missing `allowed_cidrs` as open to every address, so every request carries both. The change is
 * applied asynchronously: Trove answers 202 and the instance shows the new `access` once its task manager is done
 * (making an instance public attaches a floating IP, which then appears in `addresses` with type "public").
 *
 * Neither the Terraform nor the Pulumi OpenStack provider can set this: gophercloud's Trove client has no access
 * field, and `openstack.database.Instance` (3.15.2) no access argument.
 */
import type { KeystoneCredentials } from "../openstack-api/credentials";
import { HttpError, requestJson, type RetryPolicy } from "../openstack-api/http";
import { authenticate, findEndpoint } from "../openstack-api/keystone";
import { canonicalCidrs } from "./allowed-cidrs";
import { pollUntil } from "../../worker/src/backoff";

export interface TroveAccess {
  readonly isPublic: boolean;
  readonly allowedCidrs: readonly string[];
}

export interface TroveAddress {
  readonly address: string;
  readonly type?: string;
  readonly network?: string;
}

/** The fields of Trove's instance object this program reads. */
export interface TroveInstanceRecord {
  readonly id: string;
  readonly name?: string;
  readonly status: string;
  readonly operating_status?: string;
  readonly addresses?: TroveAddress[];
  readonly access?: { readonly is_public?: boolean; readonly allowed_cidrs?: string[] };
  readonly fault?: { readonly message?: string; readonly details?: string };
}

export interface TroveClient {
  /** https://<trove>/v1.0/<project id> */
  readonly baseUrl: string;
  readonly token: string;
  readonly retry?: RetryPolicy;
}

/** Trove's endpoint in the catalog of the cloud the credentials belong to. */
export async function connectTrove(creds: KeystoneCredentials, retry?: RetryPolicy): Promise<TroveClient> {
  const session = await authenticate(creds, retry);
  if (!session.catalog.some((s) => s.type === "database")) {
    throw new Error(
      `the service catalog of ${creds.authUrl} has no "database" service (found: ${session.catalog.map((s) => s.type).join(", ") || "none"}). ` +
        "Fix: image-pipeline:troveCloud must name the clouds.yaml entry of the DBaaS itself (for CSC Pukki, an application credential " +
        "made in https://pukki.dbaas.csc.fi with auth_url https://pukki.dbaas.csc.fi:5000/v3), not the compute cloud",
    );
  }
  const endpoint = findEndpoint(session.catalog, "database", creds.interface, creds.region);
  if (!/\/v1\.0\/[^/]+$/.test(endpoint)) {
    throw new Error(
      `the "database" endpoint ${endpoint} does not end in /v1.0/<project id>, so the project of the instance is unknown; ` +
        "check `openstack endpoint list --service database` with the same credentials",
    );
  }
  return { baseUrl: endpoint, token: session.token, retry };
}

function instanceUrl(client: TroveClient, id: string): string {
  return `${client.baseUrl}/instances/${encodeURIComponent(id)}`;
}

/** The instance, or undefined when Trove no longer knows it (404). */
export async function getInstance(client: TroveClient, id: string, name: string): Promise<TroveInstanceRecord | undefined> {
  const what = `read database instance ${name} (${id})`;
  try {
    const response = await requestJson(what, "GET", instanceUrl(client, id), {
      headers: { "X-Auth-Token": client.token },
      expect: [200],
      retry: client.retry,
    });
    const instance = (response.body as { instance?: TroveInstanceRecord } | undefined)?.instance;
    if (!instance || typeof instance.id !== "string") throw new Error(`${what}: Trove's answer has no instance object`);
    return instance;
  } catch (err) {
    if (err instanceof HttpError && err.status === 404) return undefined;
    throw err;
  }
}

/** The request body of an access update: always both fields (see the module comment). */
export function accessRequestBody(access: TroveAccess): { instance: { access: { is_public: boolean; allowed_cidrs: string[] } } } {
  return { instance: { access: { is_public: access.isPublic, allowed_cidrs: [...access.allowedCidrs] } } };
}

export async function putAccess(client: TroveClient, id: string, name: string, access: TroveAccess): Promise<void> {
  await requestJson(`set the access of database instance ${name} (${id})`, "PUT", instanceUrl(client, id), {
    headers: { "X-Auth-Token": client.token },
    body: accessRequestBody(access),
    expect: [200, 202],
    retry: client.retry,
  });
}

/** The access an instance reports. Trove versions that store no access report only `is_public`. */
export function accessOf(instance: TroveInstanceRecord): TroveAccess {
  const isPublic = instance.access?.is_public ?? (instance.addresses ?? []).some((a) => a.type === "public");
  return { isPublic, allowedCidrs: canonicalCidrs(instance.access?.allowed_cidrs ?? []) };
}

export function sameAccess(a: TroveAccess, b: TroveAccess): boolean {
  const x = canonicalCidrs(a.allowedCidrs);
  const y = canonicalCidrs(b.allowedCidrs);
  return a.isPublic === b.isPublic && x.length === y.length && x.every((c, i) => c === y[i]);
}

export function publicAddressOf(instance: TroveInstanceRecord): string | undefined {
  return (instance.addresses ?? []).find((a) => a.type === "public")?.address;
}

export function describeInstance(instance: TroveInstanceRecord): string {
  const access = accessOf(instance);
  const parts = [`status ${instance.status}`];
  if (instance.operating_status) parts.push(`operating status ${instance.operating_status}`);
  parts.push(
    `${access.isPublic ? "public" : "private"}, allowed ${access.allowedCidrs.length ? access.allowedCidrs.join(", ") : "nothing listed"}`,
  );
  if (instance.fault?.message) parts.push(`fault: ${instance.fault.message}`);
  return parts.join("; ");
}

export interface TroveWaitOptions {
  readonly pollIntervalMs: number;
  readonly timeoutMs: number;
  readonly log: (message: string) => void;
}

/**
 * Polls the instance until `done` holds. Stops at once when Trove reports ERROR (with its fault message) or no
 * longer knows the instance; otherwise fails after the timeout with what it last saw.
 */
export async function waitForInstance(
  client: TroveClient,
  id: string,
  name: string,
  goal: string,
  done: (instance: TroveInstanceRecord) => boolean,
  options: TroveWaitOptions,
): Promise<TroveInstanceRecord> {
  let last = "";
  return pollUntil(
    async () => {
      const instance = await getInstance(client, id, name);
      if (!instance) throw new Error(`database instance ${name} (${id}) disappeared while waiting until ${goal}`);
      const seen = describeInstance(instance);
      if (seen !== last) {
        options.log(`database instance ${name}: ${seen}`);
        last = seen;
      }
      if (done(instance)) return instance;
      if (instance.status === "ERROR") throw new Error(`database instance ${name} (${id}) failed while waiting until ${goal}: ${seen}`);
      return undefined;
    },
    {
      intervalMs: options.pollIntervalMs,
      deadline: Date.now() + options.timeoutMs,
      timedOut: () =>
        new Error(
          `database instance ${name} (${id}) did not reach "${goal}" within ${Math.round(options.timeoutMs / 60_000)} min; last seen ${last}`,
        ),
    },
  );
}
