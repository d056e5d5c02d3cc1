import { parseCidr, parseIpv4 } from "../../infra/ipv4";
import { agentConfig, serverConfig } from "../../infra/k3s/k3s-config";

// Go's net/netip (k3s, flannel) refuses a leading zero, and inet_aton reads "010" as octal 8: an address with one
// means different hosts to different tools, so every check in the program refuses it.
describe("IPv4 addresses: one parser, leading zeros refused everywhere", () => {
  test.each(["010.0.0.1", "10.0.0.01", "10.00.0.1"])("%s is refused by the network checks and by the k3s config", (address) => {
    expect(parseIpv4(address)).toBeUndefined();
    expect(parseCidr(`${address}/32`)).toBeUndefined();
    expect(() => serverConfig({ token: "t", agentTokenPassword: "a", nodeIp: address, floatingIp: "192.0.2.10" })).toThrow(
      `server node-ip must be an IPv4 address, got "${address}"`,
    );
    expect(() => agentConfig({ token: "t", nodeIp: "10.0.0.12", serverIp: address })).toThrow(
      `server address must be an IPv4 address, got "${address}"`,
    );
  });

  test("a plain zero octet and the edges of the range are addresses", () => {
    expect(parseIpv4("10.0.0.0")).toBe(10 * 2 ** 24);
    expect(parseIpv4("255.255.255.255")).toBe(2 ** 32 - 1);
    expect(parseIpv4("256.0.0.1")).toBeUndefined();
    expect(serverConfig({ token: "t", agentTokenPassword: "a", nodeIp: "10.0.0.11", floatingIp: "192.0.2.10" })["node-ip"]).toBe(
      "10.0.0.11",
    );
  });
});
