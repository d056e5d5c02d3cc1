/**
 * cloud-init keeps plain-text copies of the user data under /var/lib/cloud and rewrites them from its cache at
 * every boot. `scrub-user-data.sh`, run by cloud-init from its per-boot script directory, deletes them each time.
 * What remains on the node and why is in docs/security.md.
 */
import * as fs from "fs";
import * as path from "path";
import type { NodeFile } from "./metadata-block";

/** cloud-init's scripts_per_boot module runs every executable here, in the final stage of every boot. */
export const SCRUB_USER_DATA_PATH = "/var/lib/cloud/scripts/per-boot/image-pipeline-scrub-user-data";

let script: string | undefined;
export function scrubUserDataScriptText(): string {
  script ??= fs.readFileSync(path.join(__dirname, "scrub-user-data.sh"), "utf8");
  return script;
}

export function userDataScrubFile(): NodeFile {
  return { path: SCRUB_USER_DATA_PATH, content: scrubUserDataScriptText(), permissions: "0700" };
}
