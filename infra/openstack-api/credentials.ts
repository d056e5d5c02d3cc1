/**
 * Resolves OpenStack credentials the way the OpenStack CLI and the Pulumi provider do: explicit keys, else the
 * clouds.yaml entry named by `cloud` or OS_CLOUD (with secure.yaml merged in), else OS_* environment variables.
 * Resolution happens when the lease provider runs, so credentials never have to be stored in Pulumi state.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse as parseYaml } from "yaml";

export interface OpenStackAuthInputs {
  readonly cloud?: string;
  readonly region?: string;
  readonly authUrl?: string;
  readonly applicationCredentialId?: string;
  readonly applicationCredentialSecret?: string;
}

export type KeystoneCredentials =
  | {
      readonly kind: "application_credential";
      readonly authUrl: string;
      readonly id?: string;
      readonly name?: string;
      readonly secret: string;
      readonly userName?: string;
      readonly userDomainName?: string;
      readonly region?: string;
      readonly interface: string;
    }
  | {
      readonly kind: "password";
      readonly authUrl: string;
      readonly userName: string;
      readonly password: string;
      readonly userDomainName: string;
      readonly projectId?: string;
      readonly projectName?: string;
      readonly projectDomainName: string;
      readonly region?: string;
      readonly interface: string;
    };

interface CloudEntry {
  auth_type?: string;
  auth?: Record<string, string | undefined>;
  region_name?: string;
  interface?: string;
}

/** The search order of openstacksdk: OS_CLIENT_CONFIG_FILE, the current directory, the user's config, /etc. */
export function cloudsYamlCandidates(env: NodeJS.ProcessEnv, cwd = process.cwd(), home = os.homedir()): string[] {
  const configured = env.OS_CLIENT_CONFIG_FILE ? [env.OS_CLIENT_CONFIG_FILE] : [];
  return [
    ...configured,
    path.join(cwd, "clouds.yaml"),
    path.join(home, ".config", "openstack", "clouds.yaml"),
    "/etc/openstack/clouds.yaml",
  ];
}

function readCloud(name: string, files: string[]): CloudEntry {
  for (const file of files) {
    if (!fs.existsSync(file)) continue;
    const doc = parseYaml(fs.readFileSync(file, "utf8")) as { clouds?: Record<string, CloudEntry> } | null;
    const entry = doc?.clouds?.[name];
    if (!entry) continue;
    const secureFile = path.join(path.dirname(file), "secure.yaml");
    const secure = fs.existsSync(secureFile)
      ? ((parseYaml(fs.readFileSync(secureFile, "utf8")) as { clouds?: Record<string, CloudEntry> } | null)?.clouds?.[name] ?? {})
      : {};
    return { ...entry, ...secure, auth: { ...entry.auth, ...secure.auth } };
  }
  throw new Error(
    `OpenStack cloud "${name}" was not found in any clouds.yaml (looked in ${files.join(", ")}). Create it (Chameleon: Identity > Application Credentials > Download clouds.yaml) or set image-pipeline:osAuthUrl and application-credential keys.`,
  );
}

function fromEntry(
  source: string,
  auth: Record<string, string | undefined>,
  authType: string | undefined,
  region: string | undefined,
  iface: string | undefined,
): KeystoneCredentials {
  const authUrl = auth.auth_url;
  if (!authUrl) throw new Error(`${source}: auth_url is missing`);
  const type = authType ?? (auth.application_credential_id || auth.application_credential_name ? "v3applicationcredential" : "password");
  const common = { authUrl, region, interface: iface ?? "public" };
  if (type === "v3applicationcredential") {
    if (!auth.application_credential_secret) throw new Error(`${source}: application_credential_secret is missing`);
    return {
      kind: "application_credential",
      ...common,
      id: auth.application_credential_id,
      name: auth.application_credential_name,
      secret: auth.application_credential_secret,
      userName: auth.username,
      userDomainName: auth.user_domain_name,
    };
  }
  if (type === "password" || type === "v3password") {
    if (!auth.username || !auth.password) throw new Error(`${source}: username and password are required for password auth`);
    return {
      kind: "password",
      ...common,
      userName: auth.username,
      password: auth.password,
      userDomainName: auth.user_domain_name ?? auth.user_domain_id ?? "Default",
      projectId: auth.project_id,
      projectName: auth.project_name,
      projectDomainName: auth.project_domain_name ?? auth.project_domain_id ?? "Default",
    };
  }
  throw new Error(
    `${source}: auth_type "${type}" is not supported by the lease provider; use an application credential (v3applicationcredential) or password`,
  );
}

export function resolveCredentials(
  inputs: OpenStackAuthInputs,
  env: NodeJS.ProcessEnv = process.env,
  files: string[] = cloudsYamlCandidates(env),
): KeystoneCredentials {
  if (inputs.authUrl) {
    if (!inputs.applicationCredentialId || !inputs.applicationCredentialSecret)
      throw new Error("osAuthUrl is set but the application credential id or secret is missing");
    return {
      kind: "application_credential",
      authUrl: inputs.authUrl,
      id: inputs.applicationCredentialId,
      secret: inputs.applicationCredentialSecret,
      region: inputs.region,
      interface: "public",
    };
  }
  const cloud = inputs.cloud ?? env.OS_CLOUD;
  if (cloud) {
    const entry = readCloud(cloud, files);
    return fromEntry(
      `clouds.yaml cloud "${cloud}"`,
      entry.auth ?? {},
      entry.auth_type,
      inputs.region ?? entry.region_name,
      entry.interface,
    );
  }
  if (env.OS_AUTH_URL) {
    return fromEntry(
      "OS_* environment",
      {
        auth_url: env.OS_AUTH_URL,
        username: env.OS_USERNAME,
        password: env.OS_PASSWORD,
        user_domain_name: env.OS_USER_DOMAIN_NAME,
        project_id: env.OS_PROJECT_ID,
        project_name: env.OS_PROJECT_NAME,
        project_domain_name: env.OS_PROJECT_DOMAIN_NAME,
        application_credential_id: env.OS_APPLICATION_CREDENTIAL_ID,
        application_credential_secret: env.OS_APPLICATION_CREDENTIAL_SECRET,
      },
      env.OS_AUTH_TYPE,
      inputs.region ?? env.OS_REGION_NAME,
      env.OS_INTERFACE,
    );
  }
  throw new Error(
    "No OpenStack credentials: set image-pipeline:osCloud (a clouds.yaml entry), export OS_CLOUD, source an openrc (OS_AUTH_URL ...), or set image-pipeline:osAuthUrl with an application credential",
  );
}
