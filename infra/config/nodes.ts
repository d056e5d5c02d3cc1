/** The nodes: how many, their names, image and flavor, and how operators log in. */
import { readNodeImage, type NodeImageUpload } from "./node-image";
import type { ConfigDefaults, ConfigReader } from "./reader";

/** image and flavor are required: their names differ per cloud. */
export const NODES_DEFAULTS: ConfigDefaults = {
  nodeCount: "3",
  nodeNamePrefix: "node",
  keypairName: "",
  sshPublicKey: "",
  availabilityZone: "",
};

export interface NodesConfig {
  readonly count: number;
  readonly namePrefix: string;
  /** The Glance image the nodes boot: an existing one by this name, or, with `imageUpload`, the one uploaded under it. */
  readonly image: string;
  /** Upload the node image from a URL or a local file instead of booting an existing one. */
  readonly imageUpload?: NodeImageUpload;
  readonly flavor: string;
  readonly keypairName?: string;
  readonly sshPublicKey?: string;
  readonly availabilityZone?: string;
}

export function readNodes(r: ConfigReader, count: number): NodesConfig {
  const namePrefix = r.string("nodeNamePrefix");
  if (!/^[a-z][a-z0-9-]{0,40}$/.test(namePrefix)) {
    r.problem(
      "nodeNamePrefix",
      `must start with a letter and contain only lower-case letters, digits and "-" (at most 41 characters; it becomes a hostname), got "${namePrefix}"`,
      "pulumi config set nodeNamePrefix node",
    );
  }
  const keypairName = r.optionalString("keypairName");
  const sshPublicKey = r.optionalString("sshPublicKey");
  if (keypairName !== undefined && sshPublicKey !== undefined) {
    r.problem(
      "sshPublicKey",
      "cannot be combined with keypairName (one names an existing key pair, the other creates one)",
      "pulumi config rm sshPublicKey, or pulumi config rm keypairName",
    );
  }
  if (sshPublicKey !== undefined && !/^(ssh-(rsa|ed25519)|ecdsa-sha2-nistp\d+) [A-Za-z0-9+/=]+/.test(sshPublicKey)) {
    r.problem("sshPublicKey", "is not an OpenSSH public key", 'pulumi config set sshPublicKey "$(cat ~/.ssh/id_ed25519.pub)"');
  }
  return {
    count,
    namePrefix,
    image: r.requiredString("image", "CC-Ubuntu24.04"),
    imageUpload: readNodeImage(r),
    flavor: r.requiredString("flavor", "m1.medium"),
    keypairName,
    sshPublicKey,
    availabilityZone: r.optionalString("availabilityZone"),
  };
}
