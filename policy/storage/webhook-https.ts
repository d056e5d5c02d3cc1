/**
 * The notification topic pushes to the webhook over HTTPS with the certificate verified: every notification
 * carries object keys and the webhook's shared secret (OpaqueData). A stack may opt in to plain HTTP
 * (`webhookPlainHttp`, dev); this policy is mandatory in prod, so prod cannot.
 *
 * The topic is the program's `RgwTopic` dynamic resource (infra/rgw/), whose inputs are the attributes it sends
 * to RGW's CreateTopic: `pushEndpoint` (push-endpoint) and `verifySsl` (verify-ssl).
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { DYNAMIC } from "../resourceTypes";
import type { Props } from "../values";

export const WEBHOOK_HTTPS_POLICY = "webhook-over-https";

export function webhookHttpsViolations(props: Props): string[] {
  const endpoint = props.pushEndpoint;
  const violations: string[] = [];
  // Unknown during a preview before the topic's inputs resolve: nothing to judge yet.
  if (typeof endpoint === "string" && !endpoint.startsWith("https://"))
    violations.push(
      `the notification topic pushes to ${endpoint}: notifications and the webhook's shared secret cross the network in clear text. Fix: pulumi config set webhookHostName <a DNS name for the floating IP> and pulumi config rm webhookPlainHttp`,
    );
  if (props.verifySsl === false)
    violations.push(
      "the notification topic does not verify the webhook's certificate (verify-ssl=false). Fix: pulumi config rm notificationVerifySsl",
    );
  return violations;
}

export const webhookHttpsPolicy: ResourceValidationPolicy = {
  name: WEBHOOK_HTTPS_POLICY,
  description: "The bucket notification topic pushes to an https:// webhook and verifies its certificate.",
  severity: "high",
  validateResource: (args, reportViolation) => {
    if (args.type !== DYNAMIC.rgwTopic) return;
    for (const message of webhookHttpsViolations(args.props)) reportViolation(message);
  },
};
