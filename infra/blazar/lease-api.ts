/** The Blazar v1 lease API (https://docs.openstack.org/blazar/latest/api/v1/): request bodies and calls. */
import { authenticate, findEndpoint } from "../openstack-api/keystone";
import { HttpError, requestJson, RetryPolicy } from "../openstack-api/http";
import { KeystoneCredentials } from "../openstack-api/credentials";
import { pollUntil } from "../../worker/src/backoff";

export type ReservationRequest =
  | { readonly type: "flavor:instance"; readonly flavorId: string; readonly amount: number }
  | { readonly type: "physical:host"; readonly count: number; readonly resourceProperties: string };

export interface BlazarReservation {
  readonly id: string;
  readonly resource_type?: string;
  readonly status?: string;
  readonly flavor_id?: string;
  readonly missing_resources?: boolean;
  readonly resources_changed?: boolean;
}

export interface LeaseRecord {
  readonly id: string;
  readonly name: string;
  readonly status: string;
  readonly status_reason?: string;
  readonly degraded?: boolean;
  readonly start_date: string;
  readonly end_date: string;
  readonly reservations: BlazarReservation[];
}

export interface BlazarClient {
  readonly baseUrl: string;
  readonly token: string;
  readonly retry?: RetryPolicy;
}

/** Blazar takes "YYYY-MM-DD HH:MM" in UTC. */
export function blazarDate(date: Date): string {
  return date.toISOString().slice(0, 16).replace("T", " ");
}

/** Blazar answers "2026-11-22T10:00:00.000000" (UTC, no zone); normalise to ISO-8601 with Z. */
export function parseBlazarDate(text: string): string {
  const normalised = /Z|[+-]\d\d:\d\d$/.test(text) ? text : `${text.replace(" ", "T")}Z`;
  const date = new Date(normalised);
  if (Number.isNaN(date.getTime())) throw new Error(`Blazar returned an unreadable date "${text}"`);
  return date.toISOString();
}

export function reservationBody(reservation: ReservationRequest): Record<string, unknown> {
  if (reservation.type === "flavor:instance") {
    return { resource_type: "flavor:instance", flavor_id: reservation.flavorId, amount: reservation.amount, affinity: null };
  }
  return {
    resource_type: "physical:host",
    min: reservation.count,
    max: reservation.count,
    hypervisor_properties: "",
    resource_properties: reservation.resourceProperties,
  };
}

export function createLeaseBody(name: string, reservation: ReservationRequest, start: "now" | Date, end: Date): Record<string, unknown> {
  return {
    name,
    start_date: start === "now" ? "now" : blazarDate(start),
    end_date: blazarDate(end),
    reservations: [reservationBody(reservation)],
    events: [],
  };
}

export async function connectBlazar(creds: KeystoneCredentials, retry?: RetryPolicy): Promise<BlazarClient> {
  const session = await authenticate(creds, retry);
  const endpoint = findEndpoint(session.catalog, "reservation", creds.interface, creds.region);
  // Some clouds register the endpoint with the version, others without.
  const baseUrl = /\/v1$/.test(endpoint) ? endpoint : `${endpoint}/v1`;
  return { baseUrl, token: session.token, retry };
}

function leaseOf(what: string, body: unknown): LeaseRecord {
  const lease = (body as { lease?: LeaseRecord } | undefined)?.lease;
  if (!lease || typeof lease.id !== "string") throw new Error(`${what}: Blazar's answer has no lease object`);
  return lease;
}

export async function createLease(client: BlazarClient, body: Record<string, unknown>): Promise<LeaseRecord> {
  const what = `create lease ${String(body.name)}`;
  const response = await requestJson(what, "POST", `${client.baseUrl}/leases`, {
    headers: { "X-Auth-Token": client.token },
    body,
    expect: [200, 201, 202],
    retry: client.retry,
  });
  return leaseOf(what, response.body);
}

/** Returns undefined when the lease no longer exists. */
export async function getLease(client: BlazarClient, id: string, name: string): Promise<LeaseRecord | undefined> {
  const what = `read lease ${name} (${id})`;
  try {
    const response = await requestJson(what, "GET", `${client.baseUrl}/leases/${encodeURIComponent(id)}`, {
      headers: { "X-Auth-Token": client.token },
      expect: [200],
      retry: client.retry,
    });
    return leaseOf(what, response.body);
  } catch (err) {
    if (err instanceof HttpError && err.status === 404) return undefined;
    throw err;
  }
}

export async function extendLease(client: BlazarClient, id: string, name: string, end: Date): Promise<LeaseRecord> {
  const what = `update the end date of lease ${name} (${id})`;
  const response = await requestJson(what, "PUT", `${client.baseUrl}/leases/${encodeURIComponent(id)}`, {
    headers: { "X-Auth-Token": client.token },
    body: { end_date: blazarDate(end) },
    expect: [200, 202],
    retry: client.retry,
  });
  return leaseOf(what, response.body);
}

/** Deleting a lease that is already gone is success. */
export async function deleteLease(client: BlazarClient, id: string, name: string): Promise<void> {
  const what = `delete lease ${name} (${id})`;
  try {
    await requestJson(what, "DELETE", `${client.baseUrl}/leases/${encodeURIComponent(id)}`, {
      headers: { "X-Auth-Token": client.token },
      expect: [200, 202, 204],
      retry: client.retry,
    });
  } catch (err) {
    if (err instanceof HttpError && err.status === 404) return;
    throw err;
  }
}

export function describeFailure(lease: LeaseRecord): string {
  const parts = [`status ${lease.status}`];
  if (lease.status_reason) parts.push(`reason: ${lease.status_reason}`);
  if (lease.degraded) parts.push("degraded");
  for (const r of lease.reservations ?? []) {
    const flags = [
      r.status && `status ${r.status}`,
      r.missing_resources && "missing resources",
      r.resources_changed && "resources changed",
    ].filter(Boolean);
    if (flags.length > 0) parts.push(`reservation ${r.id}: ${flags.join(", ")}`);
  }
  return parts.join("; ");
}

export interface WaitOptions {
  readonly pollIntervalMs: number;
  readonly timeoutMs: number;
  readonly log: (message: string) => void;
  /** The statuses that end the wait successfully. */
  readonly until: string[];
}

/** Polls until the lease reaches one of `until`; throws with Blazar's reason on ERROR, or on timeout. */
export async function waitForLease(client: BlazarClient, id: string, name: string, options: WaitOptions): Promise<LeaseRecord> {
  let last = "";
  let lastSeen = "";
  return pollUntil(
    async () => {
      const lease = await getLease(client, id, name);
      if (!lease) throw new Error(`lease ${name} (${id}) disappeared while waiting for ${options.until.join(" or ")}`);
      if (lease.status !== last) {
        options.log(`lease ${name}: ${lease.status}`);
        last = lease.status;
      }
      if (options.until.includes(lease.status)) return lease;
      lastSeen = describeFailure(lease);
      if (lease.status === "ERROR" || lease.status === "TERMINATED") throw new Error(`lease ${name} (${id}) failed to start: ${lastSeen}`);
      return undefined;
    },
    {
      intervalMs: options.pollIntervalMs,
      deadline: Date.now() + options.timeoutMs,
      timedOut: () =>
        new Error(
          `lease ${name} (${id}) did not reach ${options.until.join(" or ")} within ${Math.round(options.timeoutMs / 60000)} min; last seen ${lastSeen}`,
        ),
    },
  );
}
