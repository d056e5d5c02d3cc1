/** OpenStack credentials of the compute cloud: a clouds.yaml entry, or explicit application credentials. */
import type * as pulumi from "@pulumi/pulumi";
import type { ConfigDefaults, ConfigReader } from "./reader";

export const OPENSTACK_DEFAULTS: ConfigDefaults = { osCloud: "", osRegion: "", osAuthUrl: "", osApplicationCredentialId: "" };

export interface OpenStackAuthConfig {
  /** Entry in clouds.yaml; when unset, OS_CLOUD or the OS_* environment variables are used. */
  readonly cloud?: string;
  readonly region?: string;
  /** Explicit application-credential auth, an alternative to clouds.yaml. */
  readonly authUrl?: string;
  readonly applicationCredentialId?: string;
  readonly applicationCredentialSecret?: pulumi.Input<string>;
}

export function readOpenStack(r: ConfigReader): OpenStackAuthConfig {
  const cloud = r.optionalString("osCloud");
  const authUrl = r.optionalString("osAuthUrl");
  const applicationCredentialId = r.optionalString("osApplicationCredentialId");
  const applicationCredentialSecret = r.optionalSecret("osApplicationCredentialSecret");
  if (authUrl !== undefined) {
    if (!/^https?:\/\/[^/]+/.test(authUrl))
      r.problem(
        "osAuthUrl",
        `must be the Keystone URL, got "${authUrl}"`,
        "pulumi config set osAuthUrl https://keystone.example.org:5000/v3",
      );
    if (applicationCredentialId === undefined)
      r.problem("osApplicationCredentialId", "is required when osAuthUrl is set", "pulumi config set osApplicationCredentialId <id>");
    if (applicationCredentialSecret === undefined)
      r.problem(
        "osApplicationCredentialSecret",
        "is required when osAuthUrl is set",
        "pulumi config set --secret osApplicationCredentialSecret <secret>",
      );
    if (cloud !== undefined)
      r.problem(
        "osCloud",
        "cannot be combined with osAuthUrl (choose clouds.yaml or explicit credentials)",
        "pulumi config rm osCloud, or pulumi config rm osAuthUrl",
      );
  }
  return { cloud, region: r.optionalString("osRegion"), authUrl, applicationCredentialId, applicationCredentialSecret };
}
