/**
 * Chameleon Blazar leases as a Pulumi dynamic resource: no Pulumi or Terraform provider exists for Blazar.
 *
 * Create reserves, waits for ACTIVE (deleting a lease that fails to start, so nothing is left billing), and
 * exports the reservation; a changed end date is an in-place extension (PUT); anything else replaces.
 *
 * `check` and `diff` accept values the engine does not know yet and judge only known ones; `create` and `update`
 * validate every input before calling Blazar.
 */
import * as pulumi from "@pulumi/pulumi";
import { assertValid, failuresOfKnownValues } from "../unknown-values";
import { OpenStackAuthInputs, resolveCredentials } from "../openstack-api/credentials";
import { RetryPolicy } from "../openstack-api/http";
import {
  connectBlazar,
  createLease,
  createLeaseBody,
  deleteLease,
  extendLease,
  getLease,
  LeaseRecord,
  parseBlazarDate,
  ReservationRequest,
  waitForLease,
} from "./lease-api";

export interface LeaseInputs {
  readonly auth: OpenStackAuthInputs;
  readonly name: string;
  readonly reservation: ReservationRequest;
  /** "now" or an ISO-8601 date. */
  readonly start: string;
  /** Absolute end (ISO-8601); wins over durationHours. */
  readonly endDate?: string;
  /** End relative to the start, resolved once at creation so re-running `pulumi up` does not move it. */
  readonly durationHours?: number;
  readonly timeoutMinutes: number;
}

export interface LeaseOutputs extends LeaseInputs {
  readonly leaseId: string;
  readonly reservationId: string;
  readonly status: string;
  readonly startDate: string;
  readonly leaseEndDate: string;
  /** For flavor:instance reservations Blazar creates a flavor whose id is the reservation id. */
  readonly reservedFlavorId?: string;
}

export interface LeaseProviderOptions {
  readonly pollIntervalMs?: number;
  readonly retry?: RetryPolicy;
  readonly env?: () => NodeJS.ProcessEnv;
  readonly log?: (message: string) => void;
  readonly now?: () => Date;
}

function endFor(inputs: LeaseInputs, start: Date): Date {
  if (inputs.endDate) return new Date(inputs.endDate);
  return new Date(start.getTime() + (inputs.durationHours ?? 8) * 3600_000);
}

function outputsOf(inputs: LeaseInputs, lease: LeaseRecord): LeaseOutputs {
  const reservation = lease.reservations?.[0];
  if (!reservation) throw new Error(`lease ${inputs.name} (${lease.id}) has no reservation`);
  return {
    ...inputs,
    leaseId: lease.id,
    reservationId: reservation.id,
    status: lease.status,
    startDate: parseBlazarDate(lease.start_date),
    leaseEndDate: parseBlazarDate(lease.end_date),
    ...(inputs.reservation.type === "flavor:instance" ? { reservedFlavorId: reservation.id } : {}),
  };
}

function isDate(text: unknown): boolean {
  return typeof text === "string" && !Number.isNaN(new Date(text).getTime());
}

function isPositiveInteger(value: unknown): boolean {
  return typeof value === "number" && Number.isInteger(value) && value > 0;
}

/** Every problem with the inputs, each naming its top-level property; an unknown value is a problem here. */
export function leaseInputFailures(inputs: LeaseInputs): pulumi.dynamic.CheckFailure[] {
  const failures: pulumi.dynamic.CheckFailure[] = [];
  const fail = (property: string, reason: string) => failures.push({ property, reason });
  if (typeof inputs.name !== "string" || inputs.name === "") fail("name", "the lease name is empty");
  // Read loosely: check sees whatever the program sent, including the unknown placeholder in place of a value.
  const r = (inputs.reservation ?? {}) as {
    type?: unknown;
    flavorId?: unknown;
    amount?: unknown;
    count?: unknown;
    resourceProperties?: unknown;
  };
  if (r.type === "flavor:instance") {
    if (typeof r.flavorId !== "string" || r.flavorId === "") fail("reservation", "a flavor:instance reservation needs the flavor's id");
    if (!isPositiveInteger(r.amount)) fail("reservation", `amount must be a positive whole number, got ${JSON.stringify(r.amount)}`);
  } else if (r.type === "physical:host") {
    if (!isPositiveInteger(r.count)) fail("reservation", `count must be a positive whole number, got ${JSON.stringify(r.count)}`);
    if (typeof r.resourceProperties !== "string") fail("reservation", "resourceProperties must be a string (Blazar's JSON host filter)");
  } else {
    fail("reservation", `type must be flavor:instance or physical:host, got ${JSON.stringify(r.type)}`);
  }
  if (inputs.start !== "now" && !isDate(inputs.start))
    fail("start", `must be "now" or an ISO-8601 date, got ${JSON.stringify(inputs.start)}`);
  if (inputs.endDate !== undefined && !isDate(inputs.endDate))
    fail("endDate", `must be an ISO-8601 date, got ${JSON.stringify(inputs.endDate)}`);
  if (inputs.durationHours !== undefined && !(typeof inputs.durationHours === "number" && inputs.durationHours > 0)) {
    fail("durationHours", `must be a positive number of hours, got ${JSON.stringify(inputs.durationHours)}`);
  }
  if (!(typeof inputs.timeoutMinutes === "number" && inputs.timeoutMinutes > 0))
    fail("timeoutMinutes", `must be a positive number of minutes, got ${JSON.stringify(inputs.timeoutMinutes)}`);
  return failures;
}

/** Replacing a lease destroys the nodes on it, so only a different reservation or name does that. */
export function leaseReplaceKeys(olds: LeaseInputs, news: LeaseInputs): string[] {
  const keys: string[] = [];
  if (olds.name !== news.name) keys.push("name");
  if (JSON.stringify(olds.reservation) !== JSON.stringify(news.reservation)) keys.push("reservation");
  if (olds.start !== news.start) keys.push("start");
  return keys;
}

export function makeLeaseProvider(options: LeaseProviderOptions = {}): pulumi.dynamic.ResourceProvider {
  const pollIntervalMs = options.pollIntervalMs ?? 15_000;
  const env = options.env ?? (() => process.env);
  const now = options.now ?? (() => new Date());
  const log = options.log ?? ((message: string) => void pulumi.log.info(message));
  const connect = (auth: OpenStackAuthInputs) => connectBlazar(resolveCredentials(auth, env()), options.retry);

  return {
    async check(_olds: LeaseInputs, news: LeaseInputs) {
      return { inputs: news, failures: failuresOfKnownValues(leaseInputFailures(news), news) };
    },

    async diff(_id: string, olds: LeaseOutputs, news: LeaseInputs) {
      const replaces = leaseReplaceKeys(olds, news);
      const changes = replaces.length > 0 || olds.endDate !== news.endDate || olds.durationHours !== news.durationHours;
      return { changes, replaces, deleteBeforeReplace: true };
    },

    async create(inputs: LeaseInputs) {
      assertValid(`lease ${inputs.name}`, leaseInputFailures(inputs));
      const client = await connect(inputs.auth);
      const start = inputs.start === "now" ? now() : new Date(inputs.start);
      const body = createLeaseBody(inputs.name, inputs.reservation, inputs.start === "now" ? "now" : start, endFor(inputs, start));
      const created = await createLease(client, body);
      log(`lease ${inputs.name}: created ${created.id}, waiting for ACTIVE`);
      try {
        // A lease starting in the future is complete when PENDING; one starting now must become ACTIVE.
        const until = inputs.start === "now" ? ["ACTIVE"] : ["PENDING", "ACTIVE"];
        const lease = await waitForLease(client, created.id, inputs.name, {
          pollIntervalMs,
          timeoutMs: inputs.timeoutMinutes * 60_000,
          log,
          until,
        });
        return { id: lease.id, outs: outputsOf(inputs, lease) };
      } catch (err) {
        // Do not leave a failed or stuck reservation behind: it holds capacity and the user's allocation.
        await deleteLease(client, created.id, inputs.name).catch((cleanup: Error) =>
          log(`lease ${inputs.name}: cleanup of ${created.id} failed: ${cleanup.message}`),
        );
        throw err;
      }
    },

    async read(id: string, props: LeaseOutputs) {
      const client = await connect(props.auth);
      const lease = await getLease(client, id, props.name);
      if (!lease) return {};
      return { id, props: outputsOf(props, lease) };
    },

    async update(id: string, olds: LeaseOutputs, news: LeaseInputs) {
      assertValid(`lease ${news.name}`, leaseInputFailures(news));
      const client = await connect(news.auth);
      const end = endFor(news, new Date(olds.startDate));
      await extendLease(client, id, news.name, end);
      log(`lease ${news.name}: end date set to ${end.toISOString()}`);
      const lease = await waitForLease(client, id, news.name, {
        pollIntervalMs,
        timeoutMs: news.timeoutMinutes * 60_000,
        log,
        until: ["ACTIVE", "PENDING"],
      });
      return { outs: outputsOf(news, lease) };
    },

    async delete(id: string, props: LeaseOutputs) {
      const client = await connect(props.auth);
      await deleteLease(client, id, props.name);
    },
  };
}
