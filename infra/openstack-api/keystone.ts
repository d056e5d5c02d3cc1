/** Keystone v3: a scoped token and the service catalog, enough to find Blazar's `reservation` endpoint. */
import { requestJson, RetryPolicy } from "./http";
import type { KeystoneCredentials } from "./credentials";

export interface CatalogEndpoint {
  readonly interface: string;
  readonly region?: string;
  readonly region_id?: string;
  readonly url: string;
}

export interface CatalogService {
  readonly type: string;
  readonly name?: string;
  readonly endpoints: CatalogEndpoint[];
}

export interface KeystoneSession {
  readonly token: string;
  readonly catalog: CatalogService[];
}

export function tokenRequestBody(creds: KeystoneCredentials): unknown {
  if (creds.kind === "application_credential") {
    const credential = creds.id
      ? { id: creds.id, secret: creds.secret }
      : { name: creds.name, secret: creds.secret, user: { name: creds.userName, domain: { name: creds.userDomainName ?? "Default" } } };
    // Application credentials carry their own project scope; Keystone rejects an explicit scope with them.
    return { auth: { identity: { methods: ["application_credential"], application_credential: credential } } };
  }
  const project = creds.projectId ? { id: creds.projectId } : { name: creds.projectName, domain: { name: creds.projectDomainName } };
  return {
    auth: {
      identity: {
        methods: ["password"],
        password: { user: { name: creds.userName, domain: { name: creds.userDomainName }, password: creds.password } },
      },
      scope: { project },
    },
  };
}

function tokensUrl(authUrl: string): string {
  const base = authUrl.replace(/\/+$/, "");
  return `${base.endsWith("/v3") ? base : `${base}/v3`}/auth/tokens`;
}

export async function authenticate(creds: KeystoneCredentials, retry?: RetryPolicy): Promise<KeystoneSession> {
  const response = await requestJson("authenticate to Keystone", "POST", tokensUrl(creds.authUrl), {
    body: tokenRequestBody(creds),
    expect: [201],
    retry,
  });
  const token = response.headers.get("x-subject-token");
  const catalog = (response.body as { token?: { catalog?: CatalogService[] } } | undefined)?.token?.catalog;
  if (!token) throw new Error(`authenticate to Keystone: ${creds.authUrl} answered 201 without an X-Subject-Token header`);
  if (!Array.isArray(catalog))
    throw new Error(`authenticate to Keystone: the token from ${creds.authUrl} has no service catalog (is it scoped to a project?)`);
  return { token, catalog };
}

export function findEndpoint(catalog: CatalogService[], serviceType: string, iface: string, region?: string): string {
  const service = catalog.find((s) => s.type === serviceType);
  if (!service)
    throw new Error(
      `the service catalog has no "${serviceType}" service (found: ${catalog.map((s) => s.type).join(", ") || "none"}); this cloud has no Blazar, so set image-pipeline:leaseType none`,
    );
  const endpoint = service.endpoints.find(
    (e) => e.interface === iface && (region === undefined || e.region === region || e.region_id === region),
  );
  if (!endpoint) throw new Error(`the "${serviceType}" service has no ${iface} endpoint${region ? ` in region ${region}` : ""}`);
  return endpoint.url.replace(/\/+$/, "");
}
