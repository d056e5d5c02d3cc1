/** Where each workload kind keeps its pod spec, so pod policies cover every way a pod can be declared. */
import { KUBERNETES } from "../resourceTypes";
import { field, isRecord, records, type Props } from "../values";

const POD_SPEC_PATHS: Record<string, readonly string[]> = {
  [KUBERNETES.pod]: ["spec"],
  [KUBERNETES.deployment]: ["spec", "template", "spec"],
  [KUBERNETES.statefulSet]: ["spec", "template", "spec"],
  [KUBERNETES.daemonSet]: ["spec", "template", "spec"],
  [KUBERNETES.replicaSet]: ["spec", "template", "spec"],
  [KUBERNETES.replicationController]: ["spec", "template", "spec"],
  [KUBERNETES.job]: ["spec", "template", "spec"],
  [KUBERNETES.cronJob]: ["spec", "jobTemplate", "spec", "template", "spec"],
};

export const POD_CARRYING_TYPES: readonly string[] = Object.keys(POD_SPEC_PATHS);

/** Where each workload kind keeps its pod template's metadata (a bare Pod's is the object's own). */
const POD_METADATA_PATHS: Record<string, readonly string[]> = Object.fromEntries(
  Object.entries(POD_SPEC_PATHS).map(([type, path]) => [type, [...path.slice(0, -1), "metadata"]]),
);

/** The pod spec of a workload resource, or undefined for other types (or a workload without one). */
export function podSpecOf(type: string, props: Props): Props | undefined {
  const path = POD_SPEC_PATHS[type];
  if (!path) return undefined;
  const spec = field(props, ...path);
  return isRecord(spec) ? spec : undefined;
}

/** The pod template's metadata (labels, annotations) of a workload resource, or undefined. */
export function podMetadataOf(type: string, props: Props): Props | undefined {
  const path = POD_METADATA_PATHS[type];
  if (!path) return undefined;
  const metadata = field(props, ...path);
  return isRecord(metadata) ? metadata : undefined;
}

export interface NamedContainer {
  /** "container web", "initContainer migrate", ... for messages. */
  readonly label: string;
  readonly container: Props;
}

export function containersOf(podSpec: Props): NamedContainer[] {
  const out: NamedContainer[] = [];
  for (const [key, label] of [
    ["initContainers", "initContainer"],
    ["containers", "container"],
    ["ephemeralContainers", "ephemeralContainer"],
  ] as const) {
    records(podSpec[key]).forEach((c, i) => out.push({ label: `${label} ${typeof c.name === "string" ? c.name : `#${i}`}`, container: c }));
  }
  return out;
}
