/**
 * Settings only the operator can supply before a first `pulumi up`: the digest the image workflow pushed, the
 * registry login, the CA of an external DBaaS. The
 * committed stack files leave them unset on purpose: a placeholder there would either fail validation or reach the
 * cloud. So the offline plan fills in these stand-ins for keys the stack file leaves empty and `--config` does not
 * set, and reports which it used (`Plan.standIns`). `pulumi up` never sees them.
 */
import { offlineSecretPlaceholder } from "../infra/config/cli-config";
import { CONFIG_NAMESPACE } from "../infra/config/reader";

export interface StandIn {
  readonly key: string;
  readonly value: string;
  readonly secret: boolean;
  /** Whether the stack's config (fully qualified keys) needs this key at all. */
  readonly needed: (config: Readonly<Record<string, string>>) => boolean;
}

/** A real self-signed CA certificate (the key was discarded), so the config validation's X.509 parse passes. */
export const STAND_IN_DBAAS_CA = `-----BEGIN CERTIFICATE-----
MIIBqTCCAU+gAwIBAgIUEmRoAOBZQ5gZxMXZwuHS/g42zgYwCgYIKoZIzj0EAwIw
KTEnMCUGA1UEAwweb2ZmbGluZS1wbGFuIHN0YW5kLWluIERCYWFTIENBMCAXDTI2
MTIwMjE4MjIyMVoYDzIxMjYxMTA4MTgyMjIxWjApMScwJQYDVQQDDB5vZmZsaW5l
LXBsYW4gc3RhbmQtaW4gREJhYVMgQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC
AATnWG/n2XY3krRQpuT3iP9jhLnYvNa7Fwmu4LuFGlGHblF2NKspqNub9HebVKz2
MfnHKLV5m6HuEkk6n6klTRZxo1MwUTAdBgNVHQ4EFgQUwu5cUCu/x75IBReWfgzX
rrXoX1kwHwYDVR0jBBgwFoAUwu5cUCu/x75IBReWfgzXrrXoX1kwDwYDVR0TAQH/
BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiEAhoh0yjqrNSiKqDZs7d2qY18Lw9PM
qfCN8kwiIRcsJEoCIGLg+QLfvl25djFHD7LVPhgznCvHHtPx4+IXuw+hhzPJ
-----END CERTIFICATE-----
`;

const key = (short: string) => `${CONFIG_NAMESPACE}:${short}`;
/** Unset, empty, or an empty list (the CLI passes a list default of [] as "[]"). */
const isEmpty = (value: string | undefined) => ["", "[]"].includes((value ?? "").trim());
const isSet = (config: Readonly<Record<string, string>>, short: string) => !isEmpty(config[key(short)]);

/** A digest-pinned reference that passes the config checks; nothing is ever pulled from it. */
export const STAND_IN_WORKER_IMAGE =
  "ghcr.io/offline-plan/image-pipeline-worker@sha256:41f5bfc5d865298d2e3978435432dbed89cb936f1f72a41573ee89fbb34d3c10";
export const STAND_IN_REGISTRY_CREDENTIALS = "offline-plan:offline-registry-token";

/** A documentation address (RFC 5737): the S3 endpoint's addresses are resolved by the operator, never by the plan. */
export const STAND_IN_S3_EGRESS_CIDRS = JSON.stringify(["192.0.2.80/32"]);

/** Whether the stack's S3 endpoint is a host name, whose addresses s3EgressCidrs must then list. */
function s3EndpointIsName(config: Readonly<Record<string, string>>): boolean {
  try {
    return !/^\d+\.\d+\.\d+\.\d+$/.test(new URL(config[key("s3Endpoint")] ?? "").hostname);
  } catch {
    return false;
  }
}

/** A name under example.org (RFC 2606): the webhook's real host name is the operator's DNS record. */
export const STAND_IN_WEBHOOK_HOST_NAME = "pipeline.example.org";

export const OFFLINE_STAND_INS: readonly StandIn[] = [
  {
    key: "workerImage",
    value: STAND_IN_WORKER_IMAGE,
    secret: false,
    needed: () => true,
  },
  {
    // The example stacks pull from ghcr.io, which makes a new package private.
    key: "registryCredentials",
    value: STAND_IN_REGISTRY_CREDENTIALS,
    secret: true,
    needed: () => true,
  },
  {
    key: "troveCaCertificate",
    value: STAND_IN_DBAAS_CA,
    secret: false,
    needed: (config) => isSet(config, "troveCloud"),
  },
  {
    key: "s3EgressCidrs",
    value: STAND_IN_S3_EGRESS_CIDRS,
    secret: false,
    needed: s3EndpointIsName,
  },
  {
    key: "webhookHostName",
    value: STAND_IN_WEBHOOK_HOST_NAME,
    secret: false,
    needed: (config) => (config[key("webhookPlainHttp")] ?? "").trim() !== "true",
  },
];

/**
 * Adds the stand-ins a stack needs to its config (as the CLI passes it: Pulumi.yaml's defaults merged in, overrides
 * applied), in place, for keys whose value is empty and that `explicit` (the overridden keys) does not name.
 * Returns the short keys it filled in.
 */
export function applyStandIns(
  config: Record<string, string>,
  secretKeys: string[],
  explicit: readonly string[] = [],
  standIns: readonly StandIn[] = OFFLINE_STAND_INS,
): string[] {
  const used: string[] = [];
  for (const standIn of standIns) {
    const full = key(standIn.key);
    if (explicit.includes(full)) continue;
    // Set, but encrypted: offline its placeholder would fail the value's own format (a login is <user>:<token>), so
    // the plan reads the stand-in instead. The operator has made this setting, so it is not reported as missing.
    if (secretKeys.includes(full) && config[full] === offlineSecretPlaceholder(full)) {
      config[full] = standIn.value;
      continue;
    }
    if (!isEmpty(config[full]) || !standIn.needed(config)) continue;
    config[full] = standIn.value;
    if (standIn.secret) secretKeys.push(full);
    used.push(standIn.key);
  }
  return used;
}
