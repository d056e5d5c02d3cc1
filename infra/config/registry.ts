/**
 * Pull credentials for the worker image's registry. GitHub's container registry makes a newly pushed package
 * private, and without credentials every pod waits in ImagePullBackOff until `up` times out. A public image needs
 * none of this (docs/clouds.md).
 */
import type * as pulumi from "@pulumi/pulumi";
import { registryHost } from "../../common/image";
import type { ConfigDefaults, ConfigReader } from "./reader";

/** registryCredentials is an optional secret: documented in Pulumi.yaml's comment block, it has no default. */
export const REGISTRY_DEFAULTS: ConfigDefaults = { registryServer: "" };

export interface RegistryConfig {
  /** Registry host, as in the image reference (ghcr.io). */
  readonly server: string;
  /** `<username>:<token>` (secret). */
  readonly credentials: pulumi.Input<string>;
}

const HOST = /^[A-Za-z0-9.-]+(:\d+)?$/;
const CREDENTIALS_FIX = "pulumi config set --secret registryCredentials <username>:<token> (for ghcr.io a token with read:packages)";

/** Why a `registryCredentials` value cannot log in, or undefined. */
export function registryCredentialsProblem(text: string): string | undefined {
  const colon = text.indexOf(":");
  if (colon <= 0 || colon === text.length - 1) return "must be <username>:<token>";
  return undefined;
}

/** Splits `<username>:<token>`; throws with the key and the fix when the value is not that. */
export function parseRegistryCredentials(text: string): { username: string; password: string } {
  const problem = registryCredentialsProblem(text);
  if (problem) throw new Error(`image-pipeline:registryCredentials: ${problem}. Fix: ${CREDENTIALS_FIX}`);
  const colon = text.indexOf(":");
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

export function readRegistry(r: ConfigReader, image: string): RegistryConfig | undefined {
  const secret = r.optionalSecret("registryCredentials");
  // An empty value is what `pulumi config set registryCredentials ""` leaves: no login, as if unset.
  const credentials = typeof secret === "string" && secret.trim() === "" ? undefined : secret;
  const serverText = r.optionalString("registryServer");
  if (credentials === undefined) {
    if (serverText !== undefined)
      r.problem(
        "registryServer",
        `is set but registryCredentials is not: the pods could not pull the private image from ${serverText}`,
        `${CREDENTIALS_FIX}, or pulumi config rm registryServer for a public image`,
      );
    return undefined;
  }
  // A value read as plain text (tests, the offline plan) is checked now; a real stack's secret when it is used.
  if (typeof credentials === "string") {
    const problem = registryCredentialsProblem(credentials);
    if (problem) r.problem("registryCredentials", problem, CREDENTIALS_FIX);
  }
  const server = serverText ?? registryHost(image);
  // No host to derive: workerImage is missing or malformed, which readWorkload has reported with its fix.
  if (server === undefined) return undefined;
  if (!HOST.test(server))
    r.problem("registryServer", `must be a registry host such as ghcr.io, got "${server}"`, "pulumi config set registryServer ghcr.io");
  return { server, credentials };
}
