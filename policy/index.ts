/**
 * The image-pipeline policy pack. Run with the program:
 *
 *   pulumi preview --policy-pack policy --policy-pack-config policy/config/<stack>.json
 *
 * Constructing the PolicyPack starts the analyzer server the Pulumi CLI talks to, so nothing else imports this
 * file; tests and the offline evaluation import `./policies`.
 */
import { PolicyPack } from "@pulumi/policy";
import { DEFAULT_ENFORCEMENT, POLICY_PACK_NAME, policies } from "./policies";

new PolicyPack(POLICY_PACK_NAME, {
  description: "Guardrails for the image pipeline: network exposure, pod security, availability and secrets.",
  enforcementLevel: DEFAULT_ENFORCEMENT,
  policies,
});
