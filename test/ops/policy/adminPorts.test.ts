import { adminPortsPolicy } from "../../../policy/openstack/adminPorts";
import { OPENSTACK } from "../../../policy/resourceTypes";
import { resourceViolations } from "../support/policyHarness";

const rule = (over: Record<string, unknown>) => ({
  direction: "ingress",
  ethertype: "IPv4",
  protocol: "tcp",
  securityGroupId: "sg",
  ...over,
});
const check = (props: Record<string, unknown>, config: Record<string, unknown> = {}) =>
  resourceViolations(adminPortsPolicy, OPENSTACK.secGroupRule, props, config);

describe("no-public-admin-ports", () => {
  test("passes ssh and the Kubernetes API from an admin range, and http from anywhere", async () => {
    expect(await check(rule({ portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: "193.166.0.0/16" }))).toEqual([]);
    expect(await check(rule({ portRangeMin: 6443, portRangeMax: 6443, remoteIpPrefix: "193.166.0.0/16" }))).toEqual([]);
    expect(await check(rule({ portRangeMin: 80, portRangeMax: 80, remoteIpPrefix: "0.0.0.0/0" }))).toEqual([]);
  });

  test("passes a world-open rule that only allows another group, udp, or egress", async () => {
    expect(await check(rule({ portRangeMin: 22, portRangeMax: 22, remoteGroupId: "sg-bastion" }))).toEqual([]);
    expect(await check(rule({ protocol: "udp", portRangeMin: 1, portRangeMax: 65535, remoteIpPrefix: "0.0.0.0/0" }))).toEqual([]);
    expect(await check(rule({ direction: "egress", remoteIpPrefix: "0.0.0.0/0" }))).toEqual([]);
  });

  test.each([
    ["ssh to 0.0.0.0/0", { portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: "0.0.0.0/0" }, "22"],
    ["the Kubernetes API to ::/0", { ethertype: "IPv6", portRangeMin: 6443, portRangeMax: 6443, remoteIpPrefix: "::/0" }, "6443"],
    ["a range covering both", { portRangeMin: 1, portRangeMax: 10000, remoteIpPrefix: "0.0.0.0/0" }, "22 and 6443"],
    ["every port (no range) and every protocol", { protocol: undefined, remoteIpPrefix: "0.0.0.0/0" }, "22 and 6443"],
    ["ssh with no remote at all (Neutron: any source)", { portRangeMin: 22, portRangeMax: 22 }, "22"],
  ])("fails %s", async (_label, over, exposed) => {
    const messages = await check(rule(over));
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain(`exposing ${exposed}.`);
    expect(messages[0]).toContain("image-pipeline:adminCidr");
  });

  test("the port list is configurable", async () => {
    const http = rule({ portRangeMin: 80, portRangeMax: 80, remoteIpPrefix: "0.0.0.0/0" });
    expect(await check(http, { ports: [80] })).toEqual([expect.stringContaining("exposing 80.")]);
    expect(await check(rule({ portRangeMin: 22, portRangeMax: 22, remoteIpPrefix: "0.0.0.0/0" }), { ports: [80] })).toEqual([]);
  });
});
