import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { evaluatePolicies, readPackConfig, resolveEnforcement, resolvePolicyConfig } from "../../policy/offline";
import { adminPortsPolicy } from "../../policy/openstack/adminPorts";
import { policies } from "../../policy/policies";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "policy-config-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const writeConfig = (stack: string, body: unknown) => fs.writeFileSync(path.join(tmp, `${stack}.json`), JSON.stringify(body));

describe("pack config", () => {
  test("the committed configs parse and name only policies of the pack", () => {
    expect(readPackConfig("dev")).toEqual({ all: "advisory" });
    expect(readPackConfig("prod")).toMatchObject({ all: "mandatory" });
  });

  test("enforcement: a policy's own entry, then all, then the policy, then the pack default (mandatory)", () => {
    expect(resolveEnforcement(adminPortsPolicy, {})).toBe("mandatory");
    expect(resolveEnforcement({ ...adminPortsPolicy, enforcementLevel: "advisory" }, {})).toBe("advisory");
    expect(resolveEnforcement(adminPortsPolicy, { all: "advisory" })).toBe("advisory");
    expect(resolveEnforcement(adminPortsPolicy, { all: "advisory", "no-public-admin-ports": { enforcementLevel: "mandatory" } })).toBe(
      "mandatory",
    );
    expect(resolveEnforcement(adminPortsPolicy, { all: { enforcementLevel: "disabled" } })).toBe("disabled");
  });

  test("getConfig gets schema defaults overlaid with configured values", () => {
    expect(resolvePolicyConfig(adminPortsPolicy, {})).toEqual({ ports: [22, 6443] });
    expect(resolvePolicyConfig(adminPortsPolicy, { "no-public-admin-ports": { enforcementLevel: "advisory", ports: [2222] } })).toEqual({
      ports: [2222],
    });
  });

  test("a config naming an unknown policy or level is refused with the file and the fix", () => {
    writeConfig("typo", { all: "strict", "no-public-admin-port": "mandatory" });
    expect(() => readPackConfig("typo", tmp)).toThrow(
      /"all": enforcement level "strict" is not one of advisory, mandatory, remediate, disabled/,
    );
    expect(() => readPackConfig("typo", tmp)).toThrow(/"no-public-admin-port" is not a policy of the pack/);
    expect(() => readPackConfig("missing", tmp)).toThrow(/no policy pack config for stack missing/);
  });

  test("policy names are unique and kebab-case, as the Pulumi service requires", () => {
    const names = policies.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });
});

describe("evaluatePolicies", () => {
  const rule = {
    type: "openstack:networking/secGroupRule:SecGroupRule",
    name: "sg-ssh-ingress",
    inputs: { direction: "ingress", protocol: "tcp", portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: "0.0.0.0/0" },
  };

  test("reports findings at the resolved level, and skips disabled policies", async () => {
    expect(await evaluatePolicies([rule], { stack: "s", config: { all: "mandatory" }, policies: [adminPortsPolicy] })).toEqual([
      {
        policy: "no-public-admin-ports",
        enforcementLevel: "mandatory",
        resource: "sg-ssh-ingress",
        type: rule.type,
        message: expect.stringContaining("exposing 22"),
      },
    ]);
    expect(
      await evaluatePolicies([rule], { stack: "s", config: { "no-public-admin-ports": "disabled" }, policies: [adminPortsPolicy] }),
    ).toEqual([]);
  });

  test("passes config to getConfig and ids to stack policies; notApplicable is not a finding", async () => {
    const seen: unknown[] = [];
    const probe: ResourceValidationPolicy = {
      name: "probe",
      description: "probe",
      configSchema: { properties: { limit: { type: "integer", default: 3 } } },
      validateResource: (args) => {
        seen.push(args.getConfig());
        args.notApplicable("not for this test");
      },
    };
    const stackProbe: StackValidationPolicy = {
      name: "stack-probe",
      description: "stack probe",
      validateStack: (args, report) => {
        for (const r of args.resources) report(`id ${String(r.props.id)}`, r.urn);
      },
    };
    const findings = await evaluatePolicies([rule], { stack: "s", config: { all: "advisory" }, policies: [probe, stackProbe] });
    expect(seen).toEqual([{ limit: 3 }]);
    expect(findings).toEqual([
      { policy: "stack-probe", enforcementLevel: "advisory", resource: "sg-ssh-ingress", type: rule.type, message: "id sg-ssh-ingress-id" },
    ]);
  });
});
