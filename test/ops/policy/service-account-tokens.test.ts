import { serviceAccountTokensPolicy } from "../../../policy/kubernetes/service-account-tokens";
import { KUBERNETES } from "../../../policy/resourceTypes";
import { resourceViolations } from "../support/policyHarness";

const deployment = (automount?: boolean) => ({
  spec: { template: { spec: { ...(automount === undefined ? {} : { automountServiceAccountToken: automount }), containers: [] } } },
});

describe("no-service-account-token-automount", () => {
  test("passes pods and ServiceAccounts that set it false", async () => {
    expect(await resourceViolations(serviceAccountTokensPolicy, KUBERNETES.deployment, deployment(false))).toEqual([]);
    expect(
      await resourceViolations(serviceAccountTokensPolicy, KUBERNETES.serviceAccount, { automountServiceAccountToken: false }),
    ).toEqual([]);
  });

  test("fails true, and unset (which mounts a token by default)", async () => {
    expect(await resourceViolations(serviceAccountTokensPolicy, KUBERNETES.deployment, deployment(true))).toEqual([
      "pod sets automountServiceAccountToken: true. Fix: automountServiceAccountToken: false on the pod spec",
    ]);
    expect(
      await resourceViolations(serviceAccountTokensPolicy, KUBERNETES.job, { spec: { template: { spec: { containers: [] } } } }),
    ).toEqual([expect.stringContaining("leaves automountServiceAccountToken unset")]);
    expect(await resourceViolations(serviceAccountTokensPolicy, KUBERNETES.serviceAccount, { automountServiceAccountToken: true })).toEqual(
      [expect.stringContaining("ServiceAccount sets automountServiceAccountToken: true")],
    );
    expect(await resourceViolations(serviceAccountTokensPolicy, KUBERNETES.serviceAccount, {})).toEqual([
      expect.stringContaining("leaves automountServiceAccountToken unset (true)"),
    ]);
  });

  test("ignores other kinds", async () => {
    expect(await resourceViolations(serviceAccountTokensPolicy, KUBERNETES.configMap, { data: {} })).toEqual([]);
  });
});
