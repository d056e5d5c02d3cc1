import { publicDatabasePolicy } from "../../../policy/openstack/public-database";
import { DYNAMIC } from "../../../policy/resourceTypes";
import { resourceViolations } from "../support/policyHarness";

const access = (props: Record<string, unknown>) => resourceViolations(publicDatabasePolicy, DYNAMIC.troveInstanceAccess, props);

describe("no-open-public-database", () => {
  test("passes a public database that allows only the cluster's egress addresses", async () => {
    expect(await access({ isPublic: true, allowedCidrs: ["203.0.113.10/32", "198.51.100.7/32"] })).toEqual([]);
    expect(await access({ isPublic: true, allowedCidrs: ["198.51.100.0/22"] })).toEqual([]);
  });

  test("passes a private database whatever its list", async () => {
    expect(await access({ isPublic: false, allowedCidrs: [] })).toEqual([]);
  });

  test("fails a public database open to the whole Internet, however it is written", async () => {
    for (const open of ["0.0.0.0/0", "10.0.0.0/0", "::/0"]) {
      expect(await access({ isPublic: true, allowedCidrs: ["203.0.113.10/32", open] })).toEqual([
        expect.stringContaining(`allowed CIDR ${open} opens the public database to the whole Internet`),
      ]);
    }
  });

  test("fails a public database without a list (Trove then allows every address) and ranges wider than /22", async () => {
    expect(await access({ isPublic: true, allowedCidrs: [] })).toEqual([expect.stringContaining("no allowed-CIDR list")]);
    expect(await access({ isPublic: true })).toEqual([expect.stringContaining("no allowed-CIDR list")]);
    expect(await access({ isPublic: true, allowedCidrs: ["195.148.0.0/16"] })).toEqual([
      expect.stringContaining("allowed CIDR 195.148.0.0/16 is wider than /22"),
    ]);
  });

  test("ignores other resource types", async () => {
    expect(await resourceViolations(publicDatabasePolicy, "openstack:database/instance:Instance", { isPublic: true })).toEqual([]);
  });
});
