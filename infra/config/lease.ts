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
};

export type LeaseEnd = { readonly kind: "duration"; readonly hours: number } | { readonly kind: "absolute"; readonly date: string };

export interface LeaseConfig {
  readonly type: "flavor:instance" | "physical:host";
  readonly name: string;
  /** "now" or an ISO-8601 UTC date. */
  readonly start: string;
  readonly end: LeaseEnd;
  /** Blazar resource_properties filter for physical:host leases, e.g. ["==", "$node_type", "compute_skylake"]. */
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
    for (const key of ["leaseDuration", "leaseEnd", "leaseStart", "leaseResourceProperties"]) {
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

  const resourceProperties = r.string("leaseResourceProperties");
  if (resourceProperties !== "") {
    let valid = false;
    try {
      valid = Array.isArray(JSON.parse(resourceProperties));
    } catch {
      valid = false;
    }
    if (!valid)
      r.problem(
        "leaseResourceProperties",
        `must be a Blazar filter as a JSON array, got ${resourceProperties}`,
        `pulumi config set leaseResourceProperties '["==", "$node_type", "compute_skylake"]'`,
      );
    if (type !== "physical:host")
      r.problem("leaseResourceProperties", "only applies to physical:host leases", "pulumi config rm leaseResourceProperties");
  }

  return {
    type,
    name: r.string("leaseName", `${resourcePrefix}-lease`),
    start,
    end,
    resourceProperties,
    timeoutMinutes: r.integer("leaseTimeoutMinutes", 1, 24 * 60),
  };
}
