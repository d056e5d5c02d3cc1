/** s3EgressCidrs: the addresses the worker may reach the S3 endpoint at, read and checked before anything exists. */
import { parseStackConfig } from "../../infra/config";
import { STAND_IN_S3_EGRESS_CIDRS } from "../../scripts/plan-stand-ins";
import { configProblems, mapSource, stackValues } from "../support/configSource";

const NOW = new Date("2026-11-22T12:00:00Z");
const parse = (stack: string, overrides: Record<string, string | undefined>) =>
  parseStackConfig(mapSource(stackValues(stack, overrides)), stack, NOW);
const problemsOf = (stack: string, overrides: Record<string, string | undefined>) =>
  configProblems(() => parse(stack, overrides)).filter((p) => p.includes("s3EgressCidrs"));

describe("s3EgressCidrs", () => {
  test("required when s3Endpoint names a host, with the command that resolves it", () => {
    for (const stack of ["dev", "prod"]) {
      const problems = problemsOf(stack, { s3EgressCidrs: "[]" });
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/s3EgressCidrs: is required because s3Endpoint names the host (chi\.tacc\.chameleoncloud\.org|a3s\.fi)/);
      expect(problems[0]).toMatch(/Fix: dig \+short A /);
    }
  });

  test("an IP-address endpoint needs none: its /32, on the URL's port or the scheme's", () => {
    expect(parse("dev", { s3Endpoint: "http://10.0.0.5:7480", s3EgressCidrs: "[]" }).storage.egress).toEqual({
      cidrs: ["10.0.0.5/32"],
      port: 7480,
    });
    expect(parse("dev", { s3Endpoint: "https://203.0.113.9", s3EgressCidrs: "[]" }).storage.egress).toEqual({
      cidrs: ["203.0.113.9/32"],
      port: 443,
    });
    expect(parse("dev", { s3Endpoint: "http://203.0.113.9", s3EgressCidrs: "[]" }).storage.egress.port).toBe(80);
  });

  test("the committed stacks get the offline plan's documentation-range stand-in and the endpoint's port", () => {
    expect(parse("dev", {}).storage.egress).toEqual({ cidrs: JSON.parse(STAND_IN_S3_EGRESS_CIDRS), port: 7480 });
    expect(parse("prod", {}).storage.egress).toEqual({ cidrs: JSON.parse(STAND_IN_S3_EGRESS_CIDRS), port: 443 });
  });

  test("configured addresses are used as given", () => {
    const cidrs = ["203.0.113.10/32", "198.51.100.0/28"];
    expect(parse("prod", { s3EgressCidrs: JSON.stringify(cidrs) }).storage.egress.cidrs).toEqual(cidrs);
  });

  test.each([
    ["10.42.0.0/16", /overlaps the pod network/],
    ["10.43.0.1/32", /overlaps the Service network/],
    ["192.168.1.0/28", /overlaps the nodes' subnet \(kubelet 10250, Kubernetes API 6443\) \(192\.168\.1\.0\/24\)/],
    ["169.254.169.254/32", /overlaps link-local addresses \(the metadata service 169\.254\.169\.254\)/],
    ["127.0.0.1/32", /overlaps loopback/],
    ["0.0.0.0/0", /covers a large part of the Internet/],
    ["203.0.113.10", /is not an IPv4 CIDR/],
    ["203.0.113.10/24", /is not an IPv4 CIDR/],
    ["a3s.fi", /is not an IPv4 CIDR/],
  ])("refuses %s", (cidr, message) => {
    const problems = problemsOf("prod", { s3EgressCidrs: JSON.stringify([cidr]) });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
    expect(problems[0]).toMatch(/^image-pipeline:s3EgressCidrs: .*Fix: /);
  });
});
