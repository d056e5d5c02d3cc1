/**
 * Whether the image tests run: where podman can (Linux, root, podman on PATH or installable), and always when
 * IMAGE_PIPELINE_REQUIRE_PODMAN=1 (.ci/run sets it, so CI can never skip them silently).
 */
import { findExecutable } from "./system-packages";

export const PODMAN_REQUIRED = process.env.IMAGE_PIPELINE_REQUIRE_PODMAN === "1";

export const podmanAvailable = process.platform === "linux" && process.getuid?.() === 0 && findExecutable("podman") !== undefined;

/** `describe` where podman can run (or is required), `describe.skip` elsewhere, saying why. */
export function describeWithPodman(name: string, fn: () => void): void {
  if (podmanAvailable || PODMAN_REQUIRED) {
    describe(name, fn);
    return;
  }
  describe.skip(`${name} (skipped: needs root and podman; .ci/run runs it with IMAGE_PIPELINE_REQUIRE_PODMAN=1)`, fn);
}
