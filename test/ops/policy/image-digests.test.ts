import { imageDigestsPolicy } from "../../../policy/kubernetes/image-digests";
import { KUBERNETES } from "../../../policy/resourceTypes";
import { resourceViolations } from "../support/policyHarness";

const DIGEST = "sha256:" + "0123456789abcdef".repeat(4);
const deployment = (...images: string[]) => ({
  spec: { template: { spec: { containers: images.map((image, i) => ({ name: `c${i}`, image })) } } },
});

describe("images-pinned-by-digest", () => {
  test("passes images pinned by digest, with or without a tag", async () => {
    expect(
      await resourceViolations(imageDigestsPolicy, KUBERNETES.deployment, deployment(`ghcr.io/o/w@${DIGEST}`, `postgres:16.9@${DIGEST}`)),
    ).toEqual([]);
  });

  test("fails a tag, an implicit latest and a malformed digest, naming the container", async () => {
    expect(
      await resourceViolations(
        imageDigestsPolicy,
        KUBERNETES.deployment,
        deployment("postgres:16.9-bookworm", "nginx", `ghcr.io/o/w@sha256:${"a".repeat(63)}`),
      ),
    ).toEqual([
      expect.stringMatching(/^container c0: image postgres:16.9-bookworm is not pinned by digest\. Fix: <repository>@sha256:<digest>/),
      expect.stringMatching(/^container c1: image nginx is not pinned/),
      expect.stringMatching(/^container c2: image ghcr\.io\/o\/w@sha256:a{63} is not pinned/),
    ]);
  });

  test("checks init containers and CronJobs, and ignores objects without pods", async () => {
    const cronJob = {
      spec: { jobTemplate: { spec: { template: { spec: { initContainers: [{ name: "init", image: "busybox:1" }], containers: [] } } } } },
    };
    expect(await resourceViolations(imageDigestsPolicy, KUBERNETES.cronJob, cronJob)).toEqual([
      expect.stringMatching(/^initContainer init:/),
    ]);
    expect(await resourceViolations(imageDigestsPolicy, KUBERNETES.configMap, { data: { image: "nginx" } })).toEqual([]);
  });
});
