import { portSecurityPolicy } from "../../../policy/openstack/portSecurity";
import { OPENSTACK } from "../../../policy/resourceTypes";
import { resourceViolations } from "../support/policyHarness";

const check = (props: Record<string, unknown>) => resourceViolations(portSecurityPolicy, OPENSTACK.port, props);

describe("port-security-off-without-security-groups", () => {
  test("passes a private port with port security off and noSecurityGroups (node1's private .11 port)", async () => {
    expect(
      await check({ networkId: "net", portSecurityEnabled: false, noSecurityGroups: true, fixedIps: [{ ipAddress: "192.168.1.11" }] }),
    ).toEqual([]);
  });

  test("passes ports with port security on, whatever their groups", async () => {
    expect(await check({ networkId: "net", portSecurityEnabled: true, securityGroupIds: ["sg-ssh", "sg-http"] })).toEqual([]);
    expect(await check({ networkId: "net", securityGroupIds: ["sg-ssh"] })).toEqual([]);
  });

  test("fails a port with port security off that lists security groups, naming them", async () => {
    const messages = await check({
      networkId: "net",
      portSecurityEnabled: false,
      noSecurityGroups: true,
      securityGroupIds: ["sg-ssh", "sg-http"],
    });
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain("[sg-ssh, sg-http]");
    expect(messages[0]).toContain("Fix: remove securityGroupIds");
  });

  test("fails a port with port security off that leaves the groups to Neutron's default", async () => {
    const messages = await check({ networkId: "net", portSecurityEnabled: false });
    expect(messages).toEqual([expect.stringContaining("without noSecurityGroups: true")]);
  });

  test("ignores other resource types", async () => {
    expect(
      await resourceViolations(portSecurityPolicy, OPENSTACK.network, { portSecurityEnabled: false, securityGroupIds: ["x"] }),
    ).toEqual([]);
  });
});
