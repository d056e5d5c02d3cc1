import { webhookHttpsPolicy, webhookHttpsViolations } from "../../../policy/storage/webhook-https";
import { DYNAMIC } from "../../../policy/resourceTypes";

test("https with verify-ssl passes; plain http or an unverified certificate fails, each naming the fix", () => {
  expect(webhookHttpsViolations({ pushEndpoint: "https://pipeline.example.org/notify", verifySsl: true })).toEqual([]);
  expect(webhookHttpsViolations({ pushEndpoint: "http://203.0.113.10/notify", verifySsl: true })).toEqual([
    expect.stringMatching(/pushes to http:\/\/203\.0\.113\.10\/notify: .* clear text\. Fix: pulumi config set webhookHostName/),
  ]);
  expect(webhookHttpsViolations({ pushEndpoint: "https://pipeline.example.org/notify", verifySsl: false })).toEqual([
    expect.stringMatching(/does not verify the webhook's certificate \(verify-ssl=false\)\. Fix: pulumi config rm notificationVerifySsl/),
  ]);
  // An endpoint not known yet (a preview before the host resolves) is not judged.
  expect(webhookHttpsViolations({ verifySsl: true })).toEqual([]);
});

test("it judges only the RGW topic", () => {
  expect(DYNAMIC.rgwTopic).toBe("pulumi-nodejs:dynamic/image-pipeline:RgwTopic");
  expect(webhookHttpsPolicy.name).toBe("webhook-over-https");
});
