/**
 * KEDA, the operator behind queue-depth scaling (workerScaling: queue-depth), installed from its official Helm
 * chart at a pinned version when the stack asks for it (kedaInstall). A helm.v3.Release waits until the chart's
 * Deployments are ready, so the ScaledObject that depends on it finds KEDA's CRDs and admission webhook in place.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { KEDA_CHART_REPOSITORY } from "../k8s/keda";

export interface KedaOperatorArgs {
  /** A version of the `keda` chart (the chart and KEDA share version numbers), e.g. 2.20.2. */
  readonly chartVersion: string;
  /** The namespace the chart installs into (created if missing). */
  readonly namespace: string;
  readonly provider: k8s.Provider;
  /** The cluster must be up before Helm can talk to it. */
  readonly clusterReady?: pulumi.Resource;
}

export class KedaOperator extends pulumi.ComponentResource {
  readonly release: k8s.helm.v3.Release;
  readonly namespace: pulumi.Output<string>;

  constructor(name: string, args: KedaOperatorArgs, opts?: pulumi.ComponentResourceOptions) {
    super("image-pipeline:keda:KedaOperator", name, {}, opts);
    this.release = new k8s.helm.v3.Release(
      `${name}-release`,
      {
        name: "keda",
        chart: "keda",
        version: args.chartVersion,
        repositoryOpts: { repo: KEDA_CHART_REPOSITORY },
        namespace: args.namespace,
        createNamespace: true,
        // A failed install or upgrade is rolled back instead of leaving half an operator behind.
        atomic: true,
        timeout: 600,
      },
      { parent: this, provider: args.provider, dependsOn: args.clusterReady ? [args.clusterReady] : [] },
    );
    this.namespace = pulumi.output(args.namespace);
    this.registerOutputs({ namespace: this.namespace });
  }
}
