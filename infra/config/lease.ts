/** The Blazar reservation the nodes run on (Chameleon), or none. */
import type { ConfigDefaults, ConfigReader } from "./reader";

export const LEASE_DEFAULTS: ConfigDefaults = {
  leaseType: "none",
  leaseName: "",
  leaseStart: "now",
  leaseDuration: "",
  leaseEnd: "",
  leaseResourceProperties: "",
  leaseTimeoutMinutes: "30",
  leaseRequireSecondNic: "true",
};

/**
 * The host filter for a second enabled NIC (network adapter slot 1, slots count from 0). Chameleon's docs say two
 * networks need two enabled NICs and that such nodes are found "by filtering by the 'Enabled' flag for a given
 * Network Adapter slot"; the Blazar property name is the one the reference API's node records use (not in the
 * docs, so a warning says it is unverified).
 */
export const SECOND_NIC_FILTER = ["=", "$network_adapters.1.enabled", "True"] as const;

/** The user's filter and, when asked, the second-NIC filter, as one Blazar resource_properties JSON string. */
export function hostFilter(userFilter: string, requireSecondNic: boolean): string {
  if (!requireSecondNic) return userFilter;
  if (userFilter === "") return JSON.stringify(SECOND_NIC_FILTER);
  return JSON.stringify(["and", JSON.parse(userFilter) as unknown, SECOND_NIC_FILTER]);
}

/** Whether a filter uses "==", which Chameleon's Blazar rejects (its query language's equality is "="). */
function usesDoubleEquals(filter: unknown): boolean {
  return Array.isArray(filter) && (filter[0] === "==" || filter.some(usesDoubleEquals));
}

export type LeaseEnd = { readonly kind: "duration"; readonly hours: number } | { readonly kind: "absolute"; readonly date: string };

export interface LeaseConfig {
  readonly type: "flavor:instance" | "physical:host";
  readonly name: string;
  /** "now" or an ISO-8601 UTC date. */
  readonly start: string;
  readonly end: LeaseEnd;
  /**
   * Blazar resource_properties filter for physical:host leases, e.g. ["=", "$node_type", "compute_skylake"], with the
   * second-NIC filter added unless leaseRequireSecondNic is false.
   */
  readonly resourceProperties: string;
  readonly timeoutMinutes: number;
}

const DURATION = /^(\d+)\s*([mhd])$/;

function parseDurationHours(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = match[2];
  return unit === "m" ? amount / 60 : unit === "h" ? amount : amount * 24;
}

function parseUtcDate(text: string): Date | undefined {
  // Blazar dates are UTC; insist on an explicit zone so "2026-12-01T10:00" is not silently local time.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) return undefined;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

export function readLease(r: ConfigReader, resourcePrefix: string, now: Date): LeaseConfig | undefined {
  const before = r.problems.length;
  const type = r.oneOf("leaseType", ["none", "flavor:instance", "physical:host"] as const);
  // An unknown type is already reported; checking the other lease keys against a guess would only add noise.
  if (r.problems.length > before) return undefined;
  const durationText = r.optionalString("leaseDuration");
  const endText = r.optionalString("leaseEnd");
  if (type === "none") {
    for (const key of ["leaseDuration", "leaseEnd", "leaseStart", "leaseResourceProperties", "leaseRequireSecondNic"]) {
      if (r.isSet(key))
        r.problem(key, "is set but leaseType is none", `pulumi config rm ${key}, or pulumi config set leaseType flavor:instance`);
    }
    return undefined;
  }

  const startText = r.string("leaseStart");
  let start = "now";
  if (startText !== "now") {
    const date = parseUtcDate(startText);
    if (!date)
      r.problem(
        "leaseStart",
        `must be "now" or an ISO-8601 UTC date such as 2026-12-01T09:00Z, got "${startText}"`,
        "pulumi config set leaseStart now",
      );
    else start = date.toISOString();
  }
  const startDate = start === "now" ? now : new Date(start);

  let end: LeaseEnd = { kind: "duration", hours: 8 };
  if (durationText !== undefined && endText !== undefined) {
    r.problem(
      "leaseEnd",
      "cannot be combined with leaseDuration",
      "keep one: pulumi config rm leaseEnd, or pulumi config rm leaseDuration",
    );
  } else if (endText !== undefined) {
    const date = parseUtcDate(endText);
    if (!date) {
      r.problem(
        "leaseEnd",
        `must be an ISO-8601 UTC date such as 2026-12-01T17:00Z, got "${endText}"`,
        "pulumi config set leaseEnd 2026-12-01T17:00Z, or use leaseDuration 8h",
      );
    } else if (date.getTime() <= now.getTime()) {
      r.problem("leaseEnd", `${endText} is in the past`, "set a future date, or use a relative leaseDuration such as 8h");
    } else if (date.getTime() <= startDate.getTime()) {
      r.problem("leaseEnd", `${endText} is not after leaseStart ${startText}`, "set leaseEnd after leaseStart");
    } else {
      end = { kind: "absolute", date: date.toISOString() };
    }
  } else if (durationText !== undefined) {
    const hours = parseDurationHours(durationText);
    if (hours === undefined || hours <= 0) {
      r.problem(
        "leaseDuration",
        `must be a positive duration such as 90m, 8h or 7d, got "${durationText}"`,
        "pulumi config set leaseDuration 8h",
      );
    } else {
      end = { kind: "duration", hours };
    }
  }

  const userFilter = r.string("leaseResourceProperties");
  let parsedFilter: unknown;
  if (userFilter !== "") {
    try {
      parsedFilter = JSON.parse(userFilter);
    } catch {
      parsedFilter = undefined;
    }
    if (!Array.isArray(parsedFilter))
      r.problem(
        "leaseResourceProperties",
        `must be a Blazar filter as a JSON array, got ${userFilter}`,
        `pulumi config set leaseResourceProperties '["=", "$node_type", "compute_skylake"]'`,
      );
    else if (usesDoubleEquals(parsedFilter))
      r.problem(
        "leaseResourceProperties",
        `uses "==", which Blazar's filter language does not have (Chameleon's lease docs: "==" is not valid and makes the lease request fail), got ${userFilter}`,
        `write equality as "=", e.g. pulumi config set leaseResourceProperties '${userFilter.replace(/"=="/g, '"="')}'`,
      );
    if (type !== "physical:host")
      r.problem("leaseResourceProperties", "only applies to physical:host leases", "pulumi config rm leaseResourceProperties");
  }
  const requireSecondNic = r.boolean("leaseRequireSecondNic");
  if (type !== "physical:host" && r.isSet("leaseRequireSecondNic"))
    r.problem("leaseRequireSecondNic", "only applies to physical:host leases", "pulumi config rm leaseRequireSecondNic");
  const bareMetal = type === "physical:host";
  if (bareMetal && requireSecondNic)
    r.warn(
      "leaseRequireSecondNic",
      `the lease asks Blazar for hosts with ${JSON.stringify(SECOND_NIC_FILTER)} (a second enabled NIC, for the private network). Chameleon's docs name the "Enabled" flag of a network adapter slot but not this Blazar property: unverified. If the lease fails with no matching hosts, check the name with \`openstack reservation host show <id>\` and filter yourself (leaseResourceProperties, leaseRequireSecondNic false)`,
    );
  const resourceProperties =
    bareMetal && (userFilter === "" || Array.isArray(parsedFilter)) ? hostFilter(userFilter, requireSecondNic) : userFilter;

  return {
    type,
    name: r.string("leaseName", `${resourcePrefix}-lease`),
    start,
    end,
    resourceProperties,
    timeoutMinutes: r.integer("leaseTimeoutMinutes", 1, 24 * 60),
  };
}

/** Below this, a bare-metal stack's readiness gate may expire while the nodes are still booting. */
export const BARE_METAL_READY_TIMEOUT_SECONDS = 2400;

/**
 * Bare-metal instances "may take approximately ten to fifteen minutes to launch" (Chameleon's getting-started
 * guide) before cloud-init even starts k3s's install, so the default readiness timeout (20 minutes) can expire on
 * a healthy cluster. Said before `up`, not when the gate gives up.
 */
export function checkBareMetalReadyTimeout(r: ConfigReader, lease: LeaseConfig | undefined, readyTimeoutSeconds: number): void {
  if (lease?.type !== "physical:host" || readyTimeoutSeconds >= BARE_METAL_READY_TIMEOUT_SECONDS) return;
  r.warn(
    "k3sReadyTimeoutSeconds",
    `${readyTimeoutSeconds} s may expire while bare-metal nodes are still launching (Chameleon: ten to fifteen minutes before the first boot), then installing k3s; set pulumi config set k3sReadyTimeoutSeconds 3600 (a gate that expires leaves the nodes running, and the next up waits again)`,
  );
}
