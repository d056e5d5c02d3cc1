/** PostgreSQL: Trove, or in the cluster. */
import type { ConfigDefaults, ConfigReader } from "./reader";

export const DATABASE_DEFAULTS: ConfigDefaults = {
  databaseKind: "in-cluster",
  troveFlavor: "",
  troveDatastoreType: "postgresql",
  troveDatastoreVersion: "",
  troveVolumeSize: "1",
  troveInstanceName: "",
};

export type DatabaseConfig =
  /** PostgreSQL deployed in the cluster by the workload (clouds without Trove, such as Chameleon KVM). */
  | { readonly kind: "in-cluster" }
  | {
      readonly kind: "trove";
      readonly instanceName: string;
      /** Nova flavor name for the Trove instance, e.g. standard.small on CSC Pukki. */
      readonly flavor: string;
      readonly datastoreType: string;
      readonly datastoreVersion: string;
      readonly volumeSizeGb: number;
    };

const TROVE_KEYS = ["troveFlavor", "troveDatastoreType", "troveDatastoreVersion", "troveVolumeSize", "troveInstanceName"];

export function readDatabase(r: ConfigReader, resourcePrefix: string): DatabaseConfig {
  const kind = r.oneOf("databaseKind", ["in-cluster", "trove"] as const);
  // An invalid kind is already reported; judging the Trove keys against the fallback would only add noise.
  if (r.optionalString("databaseKind") !== undefined && r.optionalString("databaseKind") !== kind) return { kind: "in-cluster" };
  if (kind === "in-cluster") {
    for (const key of TROVE_KEYS) {
      if (r.isSet(key))
        r.problem(key, "is set but databaseKind is in-cluster", `pulumi config rm ${key}, or pulumi config set databaseKind trove`);
    }
    return { kind };
  }
  const instanceName = r.string("troveInstanceName", `${resourcePrefix}-db`);
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(instanceName)) {
    r.problem(
      "troveInstanceName",
      `must start with a letter and contain only letters, digits, "-" and "_" (at most 64), got "${instanceName}"`,
      `pulumi config set troveInstanceName ${resourcePrefix}-db`,
    );
  }
  const datastoreVersion = r.requiredString("troveDatastoreVersion", "17.2 (see: openstack datastore version list postgresql)");
  if (datastoreVersion !== "" && !/^\d+(\.\d+)*$/.test(datastoreVersion)) {
    r.problem(
      "troveDatastoreVersion",
      `must be a version such as 17.2, got "${datastoreVersion}"`,
      "pulumi config set troveDatastoreVersion 17.2 (see: openstack datastore version list postgresql)",
    );
  }
  return {
    kind,
    instanceName,
    flavor: r.requiredString("troveFlavor", "standard.small"),
    datastoreType: r.string("troveDatastoreType"),
    datastoreVersion,
    volumeSizeGb: r.integer("troveVolumeSize", 1, 16384),
  };
}
