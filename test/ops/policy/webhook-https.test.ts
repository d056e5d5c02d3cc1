import { webhookHttpsPolicy, webhookHttpsViolations } from "../../../policy/storage/webhook-https";
import { DYNAMIC } from "../../../policy/resourceTypes";
import { resourceViolations } from "../support/policyHarness";

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

test("it judges only the RGW topic", async () => {
  const plainHttp = { pushEndpoint: "http://203.0.113.10/notify", verifySsl: false };
  expect(await resourceViolations(webhookHttpsPolicy, DYNAMIC.rgwTopic, plainHttp)).toHaveLength(2);
  expect(await resourceViolations(webhookHttpsPolicy, DYNAMIC.troveInstanceAccess, plainHttp)).toEqual([]);
  expect(await resourceViolations(webhookHttpsPolicy, "aws:s3/bucketNotification:BucketNotification", plainHttp)).toEqual([]);
});
