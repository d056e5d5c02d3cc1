import * as openstack from "@pulumi/openstack";
import type { OpenStackAuthConfig } from "./config";

/**
 * The OpenStack provider from clouds.yaml (`osCloud`, else OS_CLOUD / OS_* in the environment, which the
 * provider reads itself) or from explicit application-credential keys.
 */
export function createOpenStackProvider(name: string, auth: OpenStackAuthConfig): openstack.Provider {
  return new openstack.Provider(name, {
    cloud: auth.cloud,
    region: auth.region,
    authUrl: auth.authUrl,
    applicationCredentialId: auth.applicationCredentialId,
    applicationCredentialSecret: auth.applicationCredentialSecret,
  });
}
