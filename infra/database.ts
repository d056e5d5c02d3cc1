/**
 * The pipeline's PostgreSQL, chosen per stack, behind one `DatabaseConnection`:
 *
 * - same-cloud Trove: an instance of the compute cloud's Trove with exactly one network, the private one, and no
 *   floating IP; only the nodes on that network reach it;
 * - an external DBaaS (CSC Pukki: its own Keystone, instances reached over the Internet): the instance is made with
 *   the DBaaS's own provider, then made public with an allowed-CIDR list of exactly the addresses the cluster's
 *   traffic leaves from (`TroveInstanceAccess`, since no provider can set Trove's `access`), and the pods connect
 *   over TLS, verifying the server against the configured CA;
 * - PostgreSQL in the cluster (clouds without Trove, such as Chameleon KVM), which the workload deploys.
 */
import * as openstack from "@pulumi/openstack";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { DATABASE_CA_PATH } from "../k8s/names";
import type { DatabaseConfig } from "./config";
import type { OpenStackAuthArgs } from "./blazar/lease-resource";
import { isUsableHost, parseCidr, parseIpv4 } from "./ipv4";
import { inClusterPostgresHost, POSTGRES_PORT } from "../common/postgres-service";
import { TroveInstanceAccess } from "./trove/access-resource";
import { hostCidrs } from "./trove/allowed-cidrs";
import { DATABASE_ADMIN_USER, DATABASE_NAME, DATABASE_USER } from "./database-names";

/** How long the access resource waits for Trove to apply an allowed-CIDR list (a floating IP is attached on the way). */
export const TROVE_ACCESS_TIMEOUT_MINUTES = 30;

export { DATABASE_ADMIN_USER, DATABASE_NAME, DATABASE_USER };
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
  /**
   * In-cluster only: the superuser the image creates, for the migration Job alone; `user` is then the services'
   * least-privilege role, which the migration creates with `password`.
   */
  readonly admin?: { readonly user: string; readonly password: pulumi.Output<string>; readonly connectionString: pulumi.Output<string> };
}

export interface PipelineDatabaseArgs {
  readonly config: DatabaseConfig;
  /** Kubernetes namespace of the in-cluster PostgreSQL Service. */
  readonly namespace: string;
  readonly privateNetworkId: pulumi.Input<string>;
  /**
   * The private network's subnet. Trove takes only the network, but an instance booted before the subnet exists gets
   * no address on it (and Trove's guest agent cannot report back), so the instance waits for the subnet.
   */
  readonly privateSubnet: pulumi.Resource;
  /**
   * Protect the Trove instance from deletion and replacement (every change to it but its access re-creates it,
   * empty), and keep it in the cloud whenever Pulumi would delete it.
   */
  readonly protect: boolean;
  /** CIDR of the private network, to pick the Trove instance's address on it. */
  readonly privateNetworkCidr: string;
  /** With an external DBaaS: its provider, its credentials for the access API, and where the cluster's traffic leaves from. */
  readonly external?: ExternalDatabaseArgs;
}

export interface ExternalDatabaseArgs {
  readonly provider: openstack.Provider;
  readonly auth: OpenStackAuthArgs;
  /** The public source addresses of the nodes: the floating IP and the router's external gateway addresses. */
  readonly egressAddresses: pulumi.Input<pulumi.Input<string>[]>;
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

/**
 * Arguments of the Trove instance: one database, one user with the generated password. Same-cloud: the private
 * network only. External: no network of this stack; the DBaaS attaches its own, and `TroveInstanceAccess` makes the
 * instance public for the allowed sources.
 */
export function troveInstanceArgs(
  config: Extract<DatabaseConfig, { kind: "trove" }>,
  flavorId: pulumi.Input<string>,
  privateNetworkId: pulumi.Input<string>,
  password: pulumi.Input<string>,
): openstack.database.InstanceArgs {
  const common = {
    name: config.instanceName,
    flavorId,
    size: config.volumeSizeGb,
    datastore: { type: config.datastoreType, version: config.datastoreVersion },
    databases: [{ name: DATABASE_NAME }],
    users: [{ name: DATABASE_USER, password, databases: [DATABASE_NAME] }],
  };
  if (config.site.kind === "external") return common;
  // `uuid` only: newer Trove rejects the legacy port / fixed-IP keys, and a single network keeps it off any public one.
  return { ...common, networks: [{ uuid: privateNetworkId }] };
}

export class PipelineDatabase extends pulumi.ComponentResource {
  readonly connection: DatabaseConnection;
  readonly instance?: openstack.database.Instance;
  /** With an external DBaaS: who may reach the instance. */
  readonly access?: TroveInstanceAccess;

  constructor(name: string, args: PipelineDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("image-pipeline:database:PipelineDatabase", name, {}, opts);
    const cfg = args.config;

    // Letters and digits only: the password goes into a URL and into Trove's user API unescaped by some clients.
    const password = new random.RandomPassword(`${name}-password`, { length: 32, special: false }, { parent: this });
    const secretPassword = pulumi.secret(password.result);

    let host: pulumi.Output<string>;
    let tls: { caPath: string } | undefined;
    if (cfg.kind === "trove") {
      const external = cfg.site.kind === "external" ? args.external : undefined;
      if (cfg.site.kind === "external" && !external) {
        throw new Error(
          `PipelineDatabase ${name}: an external DBaaS (${cfg.site.cloud}) needs its provider and the cluster's egress addresses`,
        );
      }
      // The instance and its flavor come from the DBaaS's own cloud when it has one (Pukki: its own Keystone).
      const onTrove: pulumi.CustomResourceOptions = external ? { parent: this, provider: external.provider } : { parent: this };
      const flavor = openstack.compute.getFlavorOutput({ name: cfg.flavor }, onTrove);
      this.instance = new openstack.database.Instance(
        `${name}-trove`,
        troveInstanceArgs(cfg, flavor.id, args.privateNetworkId, secretPassword),
        {
          ...onTrove,
          additionalSecretOutputs: ["users"],
          // Only a same-cloud instance is on the private network; an external one is reached over the Internet.
          dependsOn: external ? [] : [args.privateSubnet],
          protect: args.protect,
          retainOnDelete: args.protect,
        },
      );
      if (external) {
        this.access = new TroveInstanceAccess(
          `${name}-access`,
          {
            auth: external.auth,
            instanceId: this.instance.id,
            instanceName: cfg.instanceName,
            isPublic: true,
            allowedCidrs: pulumi.output(external.egressAddresses).apply(hostCidrs),
            timeoutMinutes: TROVE_ACCESS_TIMEOUT_MINUTES,
          },
          { parent: this },
        );
        host = this.access.publicAddress.apply((address) => {
          if (!address) throw new Error(`database instance ${cfg.instanceName} has no public address although its access is public`);
          return address;
        });
        tls = { caPath: DATABASE_CA_PATH };
      } else {
        host = this.instance.addresses.apply((addresses) => troveHost(cfg.instanceName, addresses, args.privateNetworkCidr));
      }
    } else {
      host = pulumi.output(inClusterHost(args.namespace));
    }

    const port = pulumi.output(POSTGRES_PORT);
    let admin: DatabaseConnection["admin"];
    if (cfg.kind === "in-cluster") {
      const adminPassword = pulumi.secret(
        new random.RandomPassword(`${name}-admin-password`, { length: 32, special: false }, { parent: this }).result,
      );
      admin = {
        user: DATABASE_ADMIN_USER,
        password: adminPassword,
        connectionString: pulumi.secret(
          pulumi.all([host, adminPassword]).apply(([h, p]) =>
            postgresConnectionString({
              host: h,
              port: POSTGRES_PORT,
              database: DATABASE_NAME,
              user: DATABASE_ADMIN_USER,
              password: p,
              tls,
            }),
          ),
        ),
      };
    }
    this.connection = {
      admin,
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
            postgresConnectionString({ host: h, port: POSTGRES_PORT, database: DATABASE_NAME, user: DATABASE_USER, password: p, tls }),
          ),
      ),
    };
    this.registerOutputs({ kind: cfg.kind, host, port, database: this.connection.database, user: this.connection.user });
  }
}
