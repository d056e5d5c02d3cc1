/**
 * How RGW reaches the webhook: HTTPS to a host name with a Let's Encrypt certificate (Traefik's ACME resolver), or,
 * only when the stack opts in, plain HTTP to the floating IP. Notifications carry object keys and the webhook's
 * shared secret, so plain HTTP is an explicit choice (dev), and the policy pack refuses it in prod.
 */
import type { ConfigDefaults, ConfigReader, Environment } from "./reader";

export const LETS_ENCRYPT_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory";

export const WEBHOOK_DEFAULTS: ConfigDefaults = {
  webhookHostName: "",
  webhookPlainHttp: "false",
  acmeEmail: "",
  acmeCaServer: LETS_ENCRYPT_DIRECTORY,
};

export type WebhookExposure =
  | {
      readonly kind: "https";
      /** A DNS name whose A record is the floating IP; the certificate is issued for it. */
      readonly hostName: string;
      /** Let's Encrypt account contact (optional). */
      readonly acmeEmail?: string;
      readonly acmeCaServer: string;
    }
  | { readonly kind: "plain-http" };

/** Wildcard-DNS services (any IP as a subdomain): their registered domain's certificate limit is shared by all users. */
const WILDCARD_DNS = ["sslip.io", "nip.io", "traefik.me", "xip.io"];
const DNS_NAME = /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

const HOW =
  "create an A record for the floating IP (pulumi stack output floatingIp) in a zone you control, then pulumi config set webhookHostName pipeline.example.org; a dev stack without a name may opt in to plain HTTP: pulumi config set webhookPlainHttp true";

export function readWebhookExposure(r: ConfigReader, environment: Environment): WebhookExposure {
  const hostName = r.optionalString("webhookHostName")?.toLowerCase();
  const plainHttp = r.boolean("webhookPlainHttp");
  if (hostName !== undefined && plainHttp) {
    r.problem("webhookPlainHttp", `is true but webhookHostName (${hostName}) is set: choose one`, "pulumi config rm webhookPlainHttp");
  }
  if (plainHttp) {
    if (environment === "prod")
      r.warn(
        "webhookPlainHttp",
        "notifications and their shared secret cross the Internet in clear text; the policy pack refuses this in prod",
      );
    return { kind: "plain-http" };
  }
  if (hostName === undefined) {
    r.problem(
      "webhookHostName",
      "is required: RGW pushes notifications, with object keys and the webhook's shared secret, over HTTPS to this name",
      HOW,
    );
    return { kind: "plain-http" };
  }
  if (!DNS_NAME.test(hostName)) r.problem("webhookHostName", `must be a DNS name such as pipeline.example.org, got "${hostName}"`, HOW);
  const wildcard = WILDCARD_DNS.find((d) => hostName === d || hostName.endsWith(`.${d}`));
  if (wildcard)
    r.warn(
      "webhookHostName",
      `${hostName} is under ${wildcard}, a wildcard-DNS service: Let's Encrypt's certificates-per-registered-domain limit is shared by all its users (for sslip.io it is exhausted), so issuance may fail; use a name in a zone you control`,
    );
  const acmeEmail = r.optionalString("acmeEmail");
  if (acmeEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(acmeEmail))
    r.problem(
      "acmeEmail",
      `must be an e-mail address, got "${acmeEmail}"`,
      "pulumi config set acmeEmail ops@example.org, or pulumi config rm acmeEmail",
    );
  const acmeCaServer = r.string("acmeCaServer");
  if (!/^https:\/\/\S+$/.test(acmeCaServer))
    r.problem(
      "acmeCaServer",
      `must be an https:// ACME directory URL, got "${acmeCaServer}"`,
      `pulumi config set acmeCaServer ${LETS_ENCRYPT_DIRECTORY}`,
    );
  return { kind: "https", hostName, acmeEmail, acmeCaServer };
}
