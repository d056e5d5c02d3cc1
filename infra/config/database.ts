/** PostgreSQL: Trove on the compute cloud's private network, Trove as an external DBaaS (CSC Pukki), or in the cluster. */
import { X509Certificate } from "crypto";
import type { ConfigDefaults, ConfigReader } from "./reader";

export const DATABASE_DEFAULTS: ConfigDefaults = {
  databaseKind: "in-cluster",
  troveFlavor: "",
  troveDatastoreType: "postgresql",
  troveDatastoreVersion: "",
  troveVolumeSize: "1",
  troveInstanceName: "",
  troveCloud: "",
  troveRegion: "",
  troveCaCertificate: "",
};

/**
 * Where the Trove instance lives. Same-cloud: the compute cloud's Trove, on the private network only. External: a
 * DBaaS with its own Keystone (CSC Pukki), reached over the Internet: public, allowed only from the addresses the
 * cluster's traffic leaves from, and verified over TLS against the CA that signs its server certificates.
 */
export type TroveSite =
  | { readonly kind: "same-cloud" }
  | { readonly kind: "external"; readonly cloud: string; readonly region?: string; readonly caCertificate: string };

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
      readonly site: TroveSite;
    };

const TROVE_KEYS = [
  "troveFlavor",
  "troveDatastoreType",
  "troveDatastoreVersion",
  "troveVolumeSize",
  "troveInstanceName",
  "troveCloud",
  "troveRegion",
  "troveCaCertificate",
];

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Why a PEM bundle cannot serve as the CA of a TLS connection, or undefined when every certificate in it parses. */
export function caBundleProblem(pem: string): string | undefined {
  const blocks = pem.match(CERTIFICATE_BLOCK) ?? [];
  if (blocks.length === 0) return "is not a PEM certificate (-----BEGIN CERTIFICATE-----)";
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (err) {
      return `certificate ${i + 1} does not parse (${(err as Error).message})`;
    }
  }
  return undefined;
}

function readTroveSite(r: ConfigReader, computeCloud: string | undefined): TroveSite {
  const cloud = r.optionalString("troveCloud");
  const caCertificate = r.optionalString("troveCaCertificate");
  const region = r.optionalString("troveRegion");
  if (cloud === undefined) {
    if (caCertificate !== undefined)
      r.problem(
        "troveCaCertificate",
        "only applies to an external DBaaS (troveCloud); same-cloud Trove is reached on the private network",
        "pulumi config rm troveCaCertificate, or pulumi config set troveCloud <the DBaaS's clouds.yaml entry>",
      );
    if (region !== undefined) r.problem("troveRegion", "only applies with troveCloud", "pulumi config rm troveRegion");
    return { kind: "same-cloud" };
  }
  if (cloud === computeCloud) {
    r.problem(
      "troveCloud",
      `names the compute cloud (${cloud}); it is for a DBaaS with its own Keystone, such as CSC Pukki`,
      "pulumi config rm troveCloud (Trove of the compute cloud, on the private network)",
    );
  }
  const fetchCa =
    "pulumi config set troveCaCertificate < dbaas-ca.pem, the CA that signs the DBaaS's PostgreSQL server certificates " +
    "(openssl s_client -starttls postgres -connect <instance public IP>:5432 -showcerts prints the chain; docs/clouds.md)";
  if (caCertificate === undefined) {
    r.problem("troveCaCertificate", "is required with troveCloud: the pods verify the database server over TLS", fetchCa);
    return { kind: "external", cloud, region, caCertificate: "" };
  }
  const problem = caBundleProblem(caCertificate);
  if (problem) r.problem("troveCaCertificate", problem, fetchCa);
  return { kind: "external", cloud, region, caCertificate };
}

export function readDatabase(r: ConfigReader, resourcePrefix: string, computeCloud?: string): DatabaseConfig {
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
    site: readTroveSite(r, computeCloud),
  };
}
