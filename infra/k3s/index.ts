/** k3s on the nodes by cloud-init: PKI, join token, user data, readiness gate and the Kubernetes provider. */
export { K3sBootstrap } from "./bootstrap";
export type { K3sBootstrapArgs } from "./bootstrap";
export { K3sCluster } from "./cluster";
export type { K3sClusterArgs } from "./cluster";
export type { K3sInstallOptions } from "./user-data";
export * from "./install-defaults";
