/**
 * The pipeline's PostgreSQL, chosen per stack: a Trove instance (seed 000, CSC Pukki) on the private network only,
 * or PostgreSQL in the cluster (clouds without Trove, such as Chameleon KVM), which the workload deploys. Either way
 * the rest of the program sees the same `DatabaseConnection`.
 *
 * Unlike seed 000 (`--is-public`), the Trove instance is never public: it has exactly one network, the private one,
 * and no floating IP; only the nodes on that network reach it.
 */
import * as openstack from "@pulumi/openstack";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { DatabaseConfig } from "./config";
import { isUsableHost, parseCidr, parseIpv4 } from "./ipv4";
import { inClusterPostgresHost, POSTGRES_PORT } from "../common/postgres-service";

export const DATABASE_NAME = "pipeline_db";
export const DATABASE_USER = "pipeline";
export { POSTGRES_PORT };

export interface DatabaseConnection {
  readonly kind: "trove" | "in-cluster";
  readonly host: pulumi.Output<string>;
  readonly port: pulumi.Output<number>;
  readonly database: pulumi.Output<string>;
  readonly user: pulumi.Output<string>;
  /** Secret. */
  readonly password: pulumi.Output<string>;
  /** Secret: it embeds the password. */
  readonly connectionString: pulumi.Output<string>;
}

export interface PipelineDatabaseArgs {
  readonly config: DatabaseConfig;
  /** Kubernetes namespace of the in-cluster PostgreSQL Service. */
  readonly namespace: string;
  readonly privateNetworkId: pulumi.Input<string>;
  /** CIDR of the private network, to pick the Trove instance's address on it. */
  readonly privateNetworkCidr: string;
}

/** The in-cluster PostgreSQL Service's DNS name (the workload creates the Service under this name). */
export const inClusterHost = inClusterPostgresHost;

export interface PostgresConnectionParts {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
  /**
   * Require TLS and verify the server: its certificate must chain to the CA at `caPath` and name `host`
   * (libpq's sslmode=verify-full, which node-postgres implements with the CA read from `sslrootcert`).
   */
  readonly tls?: { readonly caPath: string };
}

export function postgresConnectionString(parts: PostgresConnectionParts): string {
  const host = parts.host.includes(":") ? `[${parts.host}]` : parts.host;
  const url = `postgresql://${encodeURIComponent(parts.user)}:${encodeURIComponent(parts.password)}@${host}:${parts.port}/${encodeURIComponent(parts.database)}`;
  return parts.tls ? `${url}?sslmode=verify-full&sslrootcert=${encodeURIComponent(parts.tls.caPath)}` : url;
}

/** The Trove instance's address on the private network; throws when Trove reports none there. */
export function troveHost(instanceName: string, addresses: readonly string[] | undefined, privateNetworkCidr: string): string {
  const cidr = parseCidr(privateNetworkCidr);
  const onPrivate = (addresses ?? []).find((a) => {
    const ip = parseIpv4(a);
    return cidr !== undefined && ip !== undefined && isUsableHost(cidr, ip);
  });
  if (onPrivate === undefined) {
    throw new Error(
      `Trove instance ${instanceName} reports no address on the private network ${privateNetworkCidr} (addresses: ${JSON.stringify(addresses ?? [])}). ` +
        "Fix: check `openstack database instance show` — the instance must be ACTIVE and attached to the private network only.",
    );
  }
  return onPrivate;
}

/** Arguments of the Trove instance: private network only, one database, one user with the generated password. */
export function troveInstanceArgs(
  config: Extract<DatabaseConfig, { kind: "trove" }>,
  flavorId: pulumi.Input<string>,
  privateNetworkId: pulumi.Input<string>,
  password: pulumi.Input<string>,
): openstack.database.InstanceArgs {
  return {
    name: config.instanceName,
    flavorId,
    size: config.volumeSizeGb,
    datastore: { type: config.datastoreType, version: config.datastoreVersion },
    // `uuid` only: newer Trove rejects the legacy port / fixed-IP keys, and a single network keeps it off any public one.
    networks: [{ uuid: privateNetworkId }],
    databases: [{ name: DATABASE_NAME }],
    users: [{ name: DATABASE_USER, password, databases: [DATABASE_NAME] }],
  };
}

export class PipelineDatabase extends pulumi.ComponentResource {
  readonly connection: DatabaseConnection;
  readonly instance?: openstack.database.Instance;

  constructor(name: string, args: PipelineDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("image-pipeline:database:PipelineDatabase", name, {}, opts);
    const cfg = args.config;

    // Letters and digits only: the password goes into a URL and into Trove's user API unescaped by some clients.
    const password = new random.RandomPassword(`${name}-password`, { length: 32, special: false }, { parent: this });
    const secretPassword = pulumi.secret(password.result);

    let host: pulumi.Output<string>;
    if (cfg.kind === "trove") {
      const flavor = openstack.compute.getFlavorOutput({ name: cfg.flavor }, { parent: this });
      this.instance = new openstack.database.Instance(
        `${name}-trove`,
        troveInstanceArgs(cfg, flavor.id, args.privateNetworkId, secretPassword),
        {
          parent: this,
          additionalSecretOutputs: ["users"],
        },
      );
      host = this.instance.addresses.apply((addresses) => troveHost(cfg.instanceName, addresses, args.privateNetworkCidr));
    } else {
      host = pulumi.output(inClusterHost(args.namespace));
    }

    const port = pulumi.output(POSTGRES_PORT);
    this.connection = {
      kind: cfg.kind,
      host,
      port,
      database: pulumi.output(DATABASE_NAME),
      user: pulumi.output(DATABASE_USER),
      password: secretPassword,
      connectionString: pulumi.secret(
        pulumi
          .all([host, secretPassword])
          .apply(([h, p]) =>
            postgresConnectionString({ host: h, port: POSTGRES_PORT, database: DATABASE_NAME, user: DATABASE_USER, password: p }),
          ),
      ),
    };
    this.registerOutputs({ kind: cfg.kind, host, port, database: this.connection.database, user: this.connection.user });
  }
}
