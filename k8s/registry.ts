/**
 * Pull credentials for the registry that holds the worker image (GitHub's container registry makes a newly
 * pushed package private). They reach the kubelet as a `kubernetes.io/dockerconfigjson` Secret named in the
 * `imagePullSecrets` of the service accounts whose pods run that image (kubernetes.io/docs/tasks/configure-pod-container/
 * configure-service-account/#add-imagepullsecrets-to-a-service-account). A public image needs none of this.
 */
import type { ISecret } from "kubernetes-models/v1/Secret";
import { pipelineLabels } from "./labels";
import { objectNames } from "./names";
import type { PipelineSecretValues, PipelineWorkloadSettings } from "./settings";

export const DOCKER_CONFIG_JSON_TYPE = "kubernetes.io/dockerconfigjson";

/** Docker Hub's credentials live under its historical index URL, which is what `docker login` writes for it. */
export function authsKey(server: string): string {
  return server === "docker.io" || server === "index.docker.io" ? "https://index.docker.io/v1/" : server;
}

/** The `.dockerconfigjson` document: one `auths` entry for the registry host, as `docker login` writes it. */
export function dockerConfigJson(server: string, username: string, password: string): string {
  const auth = Buffer.from(`${username}:${password}`, "utf8").toString("base64");
  return JSON.stringify({ auths: { [authsKey(server)]: { username, password, auth } } });
}

export function buildRegistrySecret(s: PipelineWorkloadSettings, v: PipelineSecretValues): ISecret {
  if (!s.registry) throw new Error("buildRegistrySecret: the settings name no registry");
  if (!v.registry?.username || !v.registry.password) {
    throw new Error(`registry credentials for ${s.registry.server} are required when a registry is configured`);
  }
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: objectNames(s).registry, namespace: s.namespace, labels: pipelineLabels(s.instance) },
    type: DOCKER_CONFIG_JSON_TYPE,
    stringData: { ".dockerconfigjson": dockerConfigJson(s.registry.server, v.registry.username, v.registry.password) },
  };
}
