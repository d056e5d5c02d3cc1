import { parseStackConfig } from "../../infra/config";
import { configProblems, mapSource, stackValues } from "../support/configSource";

const NOW = new Date("2026-11-22T12:00:00Z");

function parse(stack: string, overrides: Record<string, string | undefined>) {
  return parseStackConfig(mapSource(stackValues(stack, overrides)), stack, NOW);
}

function problemsOf(stack: string, overrides: Record<string, string | undefined>): string[] {
  return configProblems(() => parse(stack, overrides));
}

describe("stack config", () => {
  test("dev: Chameleon KVM@TACC with a flavor:instance lease of 3 m1.medium", () => {
    const cfg = parse("dev", {});
    expect(cfg.environment).toBe("dev");
    expect(cfg.network.externalNetwork).toBe("sharednet1");
    expect(cfg.network.floatingIpPool).toBe("public");
    expect(cfg.nodes.image).toBe("CC-Ubuntu24.04");
    expect(cfg.nodes.flavor).toBe("m1.medium");
    expect(cfg.nodes.count).toBe(3);
    expect(cfg.network.privateIps).toEqual(["192.168.1.11", "192.168.1.12", "192.168.1.13"]);
    expect(cfg.lease).toMatchObject({ type: "flavor:instance", start: "now", end: { kind: "duration", hours: 168 } });
    // No stack opens ssh or the Kubernetes API to the Internet by default: dev's example reaches nobody, and says so.
    expect(cfg.network.adminCidr).toBe("198.51.100.7/32");
    expect(cfg.warnings.join("\n")).toMatch(/adminCidr: 198\.51\.100\.7\/32 is a documentation range \(RFC 5737\): nobody is there/);
  });

  test("prod: a cloud without leases, its own names, no world-open admin ports", () => {
    const cfg = parse("prod", {});
    expect(cfg.environment).toBe("prod");
    expect(cfg.lease).toBeUndefined();
    expect(cfg.nodes.image).toBe("Ubuntu-24.04");
    expect(cfg.network.externalNetwork).not.toBe("sharednet1");
    expect(cfg.network.adminCidr).not.toBe("0.0.0.0/0");
    expect(cfg.warnings).toEqual([]);
  });

  test("a first node IP outside the subnet names firstNodeIp and the fix", () => {
    expect(problemsOf("dev", { firstNodeIp: "10.0.0.11" })).toEqual([
      "image-pipeline:firstNodeIp: 10.0.0.11 is not a usable host address of privateNetworkCidr 192.168.1.0/24. Fix: choose an address inside 192.168.1.0/24, e.g. pulumi config set firstNodeIp 192.168.1.11",
    ]);
  });

  test("zero nodes is refused", () => {
    expect(problemsOf("dev", { nodeCount: "0" })).toEqual([
      expect.stringMatching(/^image-pipeline:nodeCount: must be a whole number from 1 to 64, got "0"\. Fix: pulumi config set nodeCount/),
    ]);
  });

  test("nodes that run past the end of the subnet are refused", () => {
    expect(problemsOf("dev", { firstNodeIp: "192.168.1.253", nodeCount: "3" })).toEqual([
      expect.stringMatching(/^image-pipeline:nodeCount: 3 nodes starting at 192\.168\.1\.253 run past the end of 192\.168\.1\.0\/24/),
    ]);
  });

  test("a lease end in the past is refused", () => {
    expect(problemsOf("dev", { leaseDuration: undefined, leaseEnd: "2026-11-01T00:00Z" })).toEqual([
      expect.stringMatching(/^image-pipeline:leaseEnd: 2026-11-01T00:00Z is in the past\. Fix:/),
    ]);
  });

  test("a lease end without a time zone is refused rather than read as local time", () => {
    expect(problemsOf("dev", { leaseDuration: undefined, leaseEnd: "2026-12-01T10:00" })).toEqual([
      expect.stringMatching(/^image-pipeline:leaseEnd: must be an ISO-8601 UTC date/),
    ]);
  });

  test("an absolute lease end in the future is kept", () => {
    expect(parse("dev", { leaseDuration: undefined, leaseEnd: "2026-11-29T09:30Z" }).lease?.end).toEqual({
      kind: "absolute",
      date: "2026-11-29T09:30:00.000Z",
    });
  });

  test("leaseEnd and leaseDuration together are ambiguous", () => {
    expect(problemsOf("dev", { leaseEnd: "2026-11-29T09:30Z" })).toEqual([
      expect.stringMatching(/^image-pipeline:leaseEnd: cannot be combined with leaseDuration/),
    ]);
  });

  test("durations: minutes, hours and days; nonsense refused", () => {
    expect(parse("dev", { leaseDuration: "90m" }).lease?.end).toEqual({ kind: "duration", hours: 1.5 });
    expect(parse("dev", { leaseDuration: "8h" }).lease?.end).toEqual({ kind: "duration", hours: 8 });
    expect(problemsOf("dev", { leaseDuration: "forever" })).toEqual([
      expect.stringMatching(/^image-pipeline:leaseDuration: must be a positive duration such as 90m, 8h or 7d, got "forever"/),
    ]);
  });

  test("adminCidr has no default: without it the stack is refused, with how to find your address", () => {
    for (const stack of ["dev", "prod"]) {
      const [problem, ...more] = problemsOf(stack, { adminCidr: undefined });
      expect(more).toEqual([]);
      expect(problem).toMatch(
        /^image-pipeline:adminCidr: is required: it is the only source network allowed to reach ssh \(22\) and the Kubernetes API \(6443\), and there is no default\. Fix: /,
      );
      expect(problem).toContain("pulumi config set adminCidr <your public address>/32");
      expect(problem).toContain("curl -s https://checkip.amazonaws.com");
    }
  });

  test("the whole Internet and documentation ranges: warnings in dev, refused in prod", () => {
    expect(parse("dev", { adminCidr: "0.0.0.0/0" }).warnings.join("\n")).toMatch(
      /adminCidr: 0\.0\.0\.0\/0 opens ssh \(22\) and the Kubernetes API/,
    );
    expect(problemsOf("prod", { adminCidr: "203.0.113.0/25" })).toEqual([
      expect.stringMatching(/^image-pipeline:adminCidr: 203\.0\.113\.0\/25 is a documentation range \(RFC 5737\)/),
    ]);
    expect(problemsOf("dev", { adminCidr: "10.0.0.5/8" })).toEqual([
      expect.stringMatching(
        /^image-pipeline:adminCidr: must be an IPv4 network in CIDR form with no host bits set, got "10\.0\.0\.5\/8"\. Fix: pulumi config set adminCidr/,
      ),
    ]);
    expect(parse("dev", { adminCidr: "192.0.3.0/24" }).warnings).toEqual([]);
  });

  test("prod refuses ssh and the Kubernetes API open to the world", () => {
    expect(problemsOf("prod", { adminCidr: "0.0.0.0/0" })).toEqual([
      expect.stringMatching(
        /^image-pipeline:adminCidr: 0\.0\.0\.0\/0 opens ssh and the Kubernetes API to the whole Internet, which is not allowed in prod/,
      ),
    ]);
  });

  test("lease settings on a stack without leases are reported, not ignored", () => {
    expect(problemsOf("prod", { leaseDuration: "8h" })).toEqual([
      expect.stringMatching(/^image-pipeline:leaseDuration: is set but leaseType is none/),
    ]);
  });

  test("physical:host leases take a JSON filter; other lease types refuse it", () => {
    const cfg = parse("dev", {
      leaseType: "physical:host",
      leaseResourceProperties: '["=", "$node_type", "compute_skylake"]',
      leaseRequireSecondNic: "false",
      privateNetworkType: "vlan",
      flavor: "baremetal",
    });
    expect(cfg.lease).toMatchObject({ type: "physical:host", resourceProperties: '["=", "$node_type", "compute_skylake"]' });
    expect(problemsOf("dev", { leaseResourceProperties: '["=", "$node_type", "x"]' })).toEqual([
      expect.stringMatching(/^image-pipeline:leaseResourceProperties: only applies to physical:host leases/),
    ]);
    expect(problemsOf("dev", { leaseType: "physical:host", privateNetworkType: "vlan", leaseResourceProperties: "node_type=x" })).toEqual([
      expect.stringMatching(/^image-pipeline:leaseResourceProperties: must be a Blazar filter as a JSON array/),
    ]);
  });

  test("every problem is reported at once, each naming its key", () => {
    const problems = problemsOf("dev", {
      image: undefined,
      externalNetwork: undefined,
      privateNetworkCidr: "192.168.1.5/24",
      leaseType: "spot",
    });
    expect(problems.map((p) => p.split(":")[1])).toEqual(["privateNetworkCidr", "externalNetwork", "leaseType", "image"]);
    expect(problems.find((p) => p.includes(":image:"))).toBe(
      "image-pipeline:image: is required and not set. Fix: pulumi config set image CC-Ubuntu24.04",
    );
  });

  test("explicit credentials need all their parts and exclude clouds.yaml", () => {
    const problems = problemsOf("dev", { osAuthUrl: "https://kvm.tacc.chameleoncloud.org:5000/v3" });
    expect(problems).toEqual([
      expect.stringMatching(/^image-pipeline:osApplicationCredentialId: is required when osAuthUrl is set/),
      expect.stringMatching(
        /^image-pipeline:osApplicationCredentialSecret: is required when osAuthUrl is set\. Fix: pulumi config set --secret/,
      ),
      expect.stringMatching(/^image-pipeline:osCloud: cannot be combined with osAuthUrl/),
    ]);
  });

  test("resolvers: explicit by default, one to three usable addresses", () => {
    expect(parse("dev", { dnsNameservers: undefined }).network.dnsNameservers).toEqual(["8.8.8.8", "8.8.4.4"]);
    expect(problemsOf("dev", { dnsNameservers: "[]" })).toEqual([
      expect.stringMatching(/^image-pipeline:dnsNameservers: at least one nameserver is needed .*\. Fix: set one to three resolvers/),
    ]);
    expect(problemsOf("prod", { dnsNameservers: '["127.0.0.53"]' })).toEqual([
      expect.stringMatching(/^image-pipeline:dnsNameservers: 127\.0\.0\.53 is a loopback address/),
    ]);
  });

  test("one key pair source at a time, and a public key must look like one", () => {
    expect(problemsOf("dev", { sshPublicKey: "ssh-ed25519 AAAAC3Nza dev@laptop" })).toEqual([
      expect.stringMatching(/^image-pipeline:sshPublicKey: cannot be combined with keypairName/),
    ]);
    expect(problemsOf("dev", { keypairName: undefined, sshPublicKey: "not a key" })).toEqual([
      expect.stringMatching(/^image-pipeline:sshPublicKey: is not an OpenSSH public key/),
    ]);
  });
});

describe("config as the CLI passes it: project defaults merged in", () => {
  test("the example stacks parse with every Pulumi.yaml default present, as a real preview sees them", () => {
    // The CLI fills in troveDatastoreType=postgresql, troveVolumeSize=1 (dev is in-cluster) and leaseStart=now
    // (prod has no lease); they are defaults, not choices, so they must not be reported.
    const dev = stackValues("dev");
    expect(dev).toMatchObject({ troveDatastoreType: "postgresql", troveVolumeSize: "1", databaseKind: "in-cluster" });
    expect(parse("dev", {}).database).toEqual({ kind: "in-cluster" });
    const prod = stackValues("prod");
    expect(prod).toMatchObject({ leaseStart: "now", leaseType: "none" });
    expect(parse("prod", {}).lease).toBeUndefined();
  });

  test("a value the user chose for another kind's setting is still reported", () => {
    expect(problemsOf("dev", { troveVolumeSize: "10" })).toEqual([
      "image-pipeline:troveVolumeSize: is set but databaseKind is in-cluster. Fix: pulumi config rm troveVolumeSize, or pulumi config set databaseKind trove",
    ]);
    expect(problemsOf("prod", { leaseStart: "2030-01-01T09:00Z" })).toEqual([
      "image-pipeline:leaseStart: is set but leaseType is none. Fix: pulumi config rm leaseStart, or pulumi config set leaseType flavor:instance",
    ]);
  });
});
