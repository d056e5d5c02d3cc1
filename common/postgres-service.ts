/**
 * The in-cluster PostgreSQL Service: its name and port. The database component publishes the host
 * `postgres.<namespace>.svc.cluster.local` in the connection string before the Kubernetes builders create the
 * Service, so both read the name from here.
 */
export const IN_CLUSTER_POSTGRES_SERVICE = "postgres";
/** PostgreSQL's port, for the in-cluster Service and for a Trove instance alike. */
export const POSTGRES_PORT = 5432;

/** The in-cluster PostgreSQL Service's DNS name inside the cluster. */
export function inClusterPostgresHost(namespace: string): string {
  return `${IN_CLUSTER_POSTGRES_SERVICE}.${namespace}.svc.cluster.local`;
}
