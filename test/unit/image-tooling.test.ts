/** The image tooling's pure parts: podman's private configuration, `npm run image`'s arguments, the build's npmrc, container runs. */
import { parseImageArgs } from "../../scripts/image";
import { CONTAINER_TEST_BINARIES } from "../global-setup";
import { missingPackages } from "../support/system-packages";
import { BUILD_CA_PATH, buildNpmrc, DEFAULT_IMAGE_TAG, qualifiedImageRef } from "../../scripts/image/build-worker-image";
import { recipeTag } from "../../scripts/image/debian-base";
import { containersConf, hardNofileLimit, Podman } from "../../scripts/image/podman";
import { containerName, containerOwner, containerRunArgs } from "../../worker/local/container";

test("containers.conf selects runc with cgroupfs, a file events log, and ulimits within the hard limit", () => {
  const conf = containersConf(20000);
  expect(conf).toMatch(/^runtime = "runc"$/m);
  expect(conf).toMatch(/^cgroup_manager = "cgroupfs"$/m);
  expect(conf).toMatch(/^events_logger = "file"$/m);
  expect(conf).toMatch(/^default_ulimits = \["nofile=20000:20000", "nproc=4096:4096"\]$/m);
  expect(hardNofileLimit()).toBeGreaterThan(0);
});

test("podman keeps storage and run state in its work directory and is configured only through CONTAINERS_CONF", () => {
  const podman = new Podman("/w");
  expect(podman.globalArgs()).toEqual(["--root", "/w/storage", "--runroot", "/w/run"]);
  expect(podman.env().CONTAINERS_CONF).toBe("/w/containers.conf");
});

test("npm run image: the stand-in by default, --base for a registry's image; bad arguments name the usage", () => {
  expect(parseImageArgs([])).toMatchObject({ base: undefined, tag: DEFAULT_IMAGE_TAG, noCache: false });
  expect(parseImageArgs(["--base", "node:26.8.1-bookworm-slim@sha256:abc", "--tag", "x:y", "--no-cache"])).toMatchObject({
    base: "node:26.8.1-bookworm-slim@sha256:abc",
    tag: "x:y",
    noCache: true,
  });
  expect(() => parseImageArgs(["--base"])).toThrow(/--base needs a value/);
  expect(() => parseImageArgs(["--bogus"])).toThrow(/unknown argument --bogus; usage: npm run image/);
  expect(() => parseImageArgs(["--no-cache=yes"])).toThrow(/--no-cache takes no value/);
});

test("the build's npmrc names the mounted CA bundle and this machine's registry, nothing else", () => {
  expect(buildNpmrc("https://registry.npmjs.org/", true)).toBe(
    `registry=https://registry.npmjs.org/\ncafile=${BUILD_CA_PATH}\naudit=false\nfund=false\n`,
  );
  expect(buildNpmrc(undefined, false)).toBe("audit=false\nfund=false\n");
});

test("a base's tag changes with its recipe, so a cached base is never used for a different recipe", () => {
  const recipe = { name: "localhost/b", include: [], customize: ["true"], key: "node v20", changes: [] };
  expect(recipeTag(recipe)).toMatch(/^localhost\/b:[0-9a-f]{12}$/);
  expect(recipeTag(recipe)).toBe(recipeTag({ ...recipe }));
  expect(recipeTag({ ...recipe, key: "node v22" })).not.toBe(recipeTag(recipe));
});

test("a service container: host network, read-only root, /tmp only, environment by name only, owned by this process", () => {
  const engine = { globalArgs: () => ["--root", "/r"], env: () => ({}) };
  const name = containerName("worker-1");
  expect(containerOwner(name)).toBe(process.pid);
  expect(containerOwner("someone-else")).toBeUndefined();
  const args = containerRunArgs({ engine, ref: "img:1" }, name, "worker", ["DATABASE_URL", "PORT"]);
  expect(args.slice(0, 3)).toEqual(["--root", "/r", "run"]);
  expect(args).toEqual(expect.arrayContaining(["--read-only", "--rm"]));
  expect(args.join(" ")).toMatch(/--network host/);
  expect(args.join(" ")).toMatch(/--tmpfs \/tmp:/);
  expect(args.join(" ")).toMatch(/--env DATABASE_URL --env PORT img:1 worker$/);
  expect(args.join(" ")).not.toMatch(/--env \S+=/);
});

test("a base given as Docker Hub shorthand is qualified as Docker would, so podman never asks which registry", () => {
  const digest = `sha256:${"ab12".repeat(16)}`;
  expect(qualifiedImageRef(`node:26.8.1-bookworm-slim@${digest}`)).toBe(`docker.io/library/node:26.8.1-bookworm-slim@${digest}`);
  expect(qualifiedImageRef("bitnami/node:22")).toBe("docker.io/bitnami/node:22");
  expect(qualifiedImageRef("ghcr.io/o/img@" + digest)).toBe("ghcr.io/o/img@" + digest);
  expect(qualifiedImageRef("localhost/image-pipeline-stand-in-node:abc")).toBe("localhost/image-pipeline-stand-in-node:abc");
  expect(qualifiedImageRef("registry:5000/x")).toBe("registry:5000/x");
});

test("the container tests' tools are declared with the other test tools: podman and runc, and mmdebstrap for the Debian bases", () => {
  expect(missingPackages(CONTAINER_TEST_BINARIES, "/nonexistent")).toEqual(["mmdebstrap", "podman", "runc"]);
});
