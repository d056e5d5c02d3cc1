import { databaseNetworkPolicy } from "../../../policy/openstack/databaseNetwork";
import { DYNAMIC, OPENSTACK } from "../../../policy/resourceTypes";
import { stackViolations, UNKNOWN_STRING, UnknownValueError } from "../support/policyHarness";

const privateNet = {
  type: OPENSTACK.network,
  name: "network-private",
  props: { id: "net-private", name: "ip-prod-private-net", adminStateUp: true },
};
const externalNet = { type: OPENSTACK.network, name: "network-public", props: { id: "net-public", external: true } };
const externalPort = { type: OPENSTACK.port, name: "network-external-port-1", props: { id: "port-ext", networkId: "net-sharednet1" } };
const privatePort = { type: OPENSTACK.port, name: "database-port", props: { id: "port-db", networkId: "net-private" } };
const db = (networks: unknown) => ({
  type: OPENSTACK.databaseInstance,
  name: "database",
  props: { id: "db", size: 10, datastore: { type: "postgresql", version: "16" }, networks },
});

describe("database-on-private-network-only", () => {
  test("passes a database on the stack's private network, by uuid or by a private port", async () => {
    expect(await stackViolations(databaseNetworkPolicy, [privateNet, externalPort, db([{ uuid: "net-private" }])])).toEqual([]);
    expect(await stackViolations(databaseNetworkPolicy, [privateNet, privatePort, db([{ port: "port-db" }])])).toEqual([]);
  });

  test("passes a stack without a database (in-cluster PostgreSQL)", async () => {
    expect(await stackViolations(databaseNetworkPolicy, [privateNet, externalPort])).toEqual([]);
  });

  test("fails a database on a network the stack only looked up (the provider's public network)", async () => {
    const violations = await stackViolations(databaseNetworkPolicy, [
      privateNet,
      db([{ uuid: "net-private" }, { uuid: "net-sharednet1" }]),
    ]);
    expect(violations).toEqual([
      {
        message: expect.stringContaining("networks[1].uuid net-sharednet1 is not a private network"),
        urn: expect.stringMatching(/::database$/),
      },
    ]);
  });

  test("fails a database on a network the stack declares as external, or through a port on it", async () => {
    expect(await stackViolations(databaseNetworkPolicy, [privateNet, externalNet, db([{ uuid: "net-public" }])])).toEqual([
      expect.objectContaining({ message: expect.stringContaining("networks[0].uuid net-public") }),
    ]);
    expect(await stackViolations(databaseNetworkPolicy, [privateNet, externalPort, db([{ port: "port-ext" }])])).toEqual([
      expect.objectContaining({ message: expect.stringContaining("networks[0].port port-ext is not a port on a private network") }),
    ]);
  });

  test("fails a database without networks (Trove would pick its default)", async () => {
    expect(await stackViolations(databaseNetworkPolicy, [privateNet, db(undefined)])).toEqual([
      expect.objectContaining({ message: expect.stringContaining("names no network") }),
    ]);
    expect(await stackViolations(databaseNetworkPolicy, [privateNet, db([{ name: "x" }])])).toEqual([
      expect.objectContaining({ message: expect.stringContaining("neither uuid nor port") }),
    ]);
  });

  test("passes an external DBaaS instance (no networks of this stack) that a TroveInstanceAccess governs", async () => {
    const governed = { type: DYNAMIC.troveInstanceAccess, name: "database-access", props: { id: "db", instanceId: "db", isPublic: true } };
    expect(await stackViolations(databaseNetworkPolicy, [privateNet, db(undefined), governed])).toEqual([]);
    const other = { ...governed, props: { ...governed.props, instanceId: "another-db" } };
    expect(await stackViolations(databaseNetworkPolicy, [privateNet, db(undefined), other])).toEqual([
      expect.objectContaining({ message: expect.stringContaining("names no network") }),
    ]);
  });

  test("a network id not known during preview makes the policy not runnable rather than wrong", async () => {
    const unknownNet = { ...privateNet, props: { ...privateNet.props, id: UNKNOWN_STRING } };
    await expect(stackViolations(databaseNetworkPolicy, [unknownNet, db([{ uuid: UNKNOWN_STRING }])])).rejects.toBeInstanceOf(
      UnknownValueError,
    );
  });
});
