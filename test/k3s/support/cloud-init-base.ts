/**
 * The image the cloud-init tests boot: Debian bookworm (minbase) with cloud-init, iproute2 (the bootstrap finds
 * its interface with `ip`), curl, ca-certificates and openssh-client (cloud-init's ssh module generates host
 * keys with ssh-keygen, as on a cloud image), built from Debian's packages and cached like the worker
 * image's stand-in base (scripts/image/debian-base.ts).
 */
import { ensureDebianBase, type DebianBaseRecipe } from "../../../scripts/image/debian-base";
import type { Podman } from "../../../scripts/image/podman";

export const CLOUD_INIT_BASE_RECIPE: DebianBaseRecipe = {
  name: "localhost/image-pipeline-cloud-init-node",
  include: ["cloud-init", "iproute2", "curl", "ca-certificates", "openssh-client"],
  customize: [],
  key: "bookworm cloud-init node",
  changes: ["ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 'CMD ["sleep", "infinity"]'],
};

export function ensureCloudInitBase(podman: Podman, log?: (line: string) => void): string {
  return ensureDebianBase(podman, CLOUD_INIT_BASE_RECIPE, log);
}
