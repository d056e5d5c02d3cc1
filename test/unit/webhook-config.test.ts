/** webhookHostName / webhookPlainHttp: HTTPS to a name, or plain HTTP only by explicit opt-in. */
import { parseStackConfig } from "../../infra/config";
import { configProblems, mapSource, stackValues } from "../support/configSource";

const NOW = new Date("2026-11-22T12:00:00Z");
const parse = (stack: string, overrides: Record<string, string | undefined>) =>
  parseStackConfig(mapSource(stackValues(stack, overrides)), stack, NOW);
const problemsOf = (stack: string, overrides: Record<string, string | undefined>) => configProblems(() => parse(stack, overrides));

test("a host name gives HTTPS with Let's Encrypt's production directory", () => {
  expect(parse("prod", { webhookHostName: "Pipeline.Example.org" }).webhook).toEqual({
    kind: "https",
    hostName: "pipeline.example.org",
    acmeEmail: undefined,
    acmeCaServer: "https://acme-v02.api.letsencrypt.org/directory",
  });
});

test("neither a host name nor the plain-HTTP opt-in is refused, naming both ways out", () => {
  expect(problemsOf("prod", { webhookHostName: "" })).toEqual([
    expect.stringMatching(
      /^image-pipeline:webhookHostName: is required: RGW pushes notifications, with object keys and the webhook's shared secret, over HTTPS to this name\. Fix: create an A record for the floating IP .* pulumi config set webhookPlainHttp true$/,
    ),
  ]);
});

test("dev opts in to plain HTTP explicitly; prod may, with a warning (the policy pack refuses it there)", () => {
  expect(parse("dev", {}).webhook).toEqual({ kind: "plain-http" });
  const prod = parse("prod", { webhookHostName: undefined, webhookPlainHttp: "true" });
  expect(prod.webhook).toEqual({ kind: "plain-http" });
  expect(prod.warnings.join("\n")).toMatch(/webhookPlainHttp: notifications and their shared secret cross the Internet in clear text/);
});

test.each([
  [
    { webhookHostName: "pipeline.example.org", webhookPlainHttp: "true" },
    /webhookPlainHttp: is true but webhookHostName \(pipeline\.example\.org\) is set: choose one/,
  ],
  [{ webhookHostName: "203.0.113.10" }, /webhookHostName: must be a DNS name such as pipeline\.example\.org, got "203\.0\.113\.10"/],
  [{ webhookHostName: "pipeline" }, /webhookHostName: must be a DNS name/],
  [{ webhookHostName: "pipeline.example.org", acmeEmail: "ops" }, /acmeEmail: must be an e-mail address, got "ops"/],
  [
    { webhookHostName: "pipeline.example.org", acmeCaServer: "http://acme.example.org/dir" },
    /acmeCaServer: must be an https:\/\/ ACME directory URL/,
  ],
])("refuses %j", (overrides, message) => {
  expect(problemsOf("prod", overrides)).toEqual([expect.stringMatching(message)]);
});

test("a wildcard-DNS name is accepted with a warning about Let's Encrypt's shared limit", () => {
  const cfg = parse("prod", { webhookHostName: "203-0-113-10.sslip.io" });
  expect(cfg.webhook).toMatchObject({ kind: "https", hostName: "203-0-113-10.sslip.io" });
  expect(cfg.warnings.join("\n")).toMatch(
    /203-0-113-10\.sslip\.io is under sslip\.io, a wildcard-DNS service: Let's Encrypt's certificates-per-registered-domain limit/,
  );
});
