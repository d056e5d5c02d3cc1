/** CPU and memory of one container, as Kubernetes quantities (stack config and the Kubernetes builders share it). */
export interface ResourceSettings {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
}
