/**
 * Kubernetes API level the builders target and the tests validate against.
 *
 * `kubernetes-models` 4.5.x carries the OpenAPI schemas of Kubernetes v1.33.0 (its changelog: "Update schema
 * version to v1.33.0"). The objects use only fields that are GA since v1.27 or earlier, except the
 * `preStop.sleep` lifecycle action (beta and on by default since v1.30), so any k3s from v1.30 on accepts them.
 */
export const SCHEMA_KUBERNETES_VERSION = "v1.33";
