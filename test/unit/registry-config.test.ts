/**
 * Pulling the worker image: registry credentials as stack config, images by digest, and the placeholders the example
 * stacks used to carry refused by the config validation (naming the key and the fix) instead of timing out in `up`.
 */
import * as path from "path";
import { parseStackConfig, parseRegistryCredentials, type ConfigSource } from "../../infra/config";
import { readCliConfig } from "../../infra/config/cli-config";
import { placeholderImageProblem, registryHost } from "../../common/image";
import { configProblems, mapSource, stackValues } from "../support/configSource";

const ROOT = path.resolve(__dirname, "../..");
const NOW = new Date("2026-12-02T12:00:00Z");
const REAL_DIGEST = "sha256:41f5bfc5d865298d2e3978435432dbed89cb936f1f72a41573ee89fbb34d3c10";

/** A committed stack exactly as the CLI passes it, without the offline plan's stand-ins. */
function cliSource(stack: string): ConfigSource {
  const { config } = readCliConfig(ROOT, stack);
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) values[key.replace(/^image-pipeline:/, "")] = value;
  return mapSource(values);
}

const parse = (stack: string, overrides: Record<string, string | undefined> = {}) =>
  parseStackConfig(mapSource(stackValues(stack, overrides)), stack, NOW);

describe("the example stacks as committed", () => {
  test("dev stops before any resource, naming the worker image and the registry login with their fixes", () => {
    const problems = configProblems(() => parseStackConfig(cliSource("dev"), "dev", NOW));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^image-pipeline:workerImage: .*Fix: pulumi config set workerImage .*@sha256:/),
        expect.stringMatching(
          /^image-pipeline:registryServer: is set but registryCredentials is not.*Fix: pulumi config set --secret registryCredentials/,
        ),
      ]),
    );
  });

  test("prod stops naming the registry login (its image comes from dev by promotion)", () => {
    const problems = configProblems(() => parseStackConfig(cliSource("prod"), "prod", NOW));
    expect(problems.filter((p) => p.includes("registry"))).toEqual([
      expect.stringMatching(/^image-pipeline:registryServer: is set but registryCredentials is not/),
    ]);
  });

  test("with what the README tells the user to set, both parse, and the login is for ghcr.io", () => {
    expect(parse("dev").registry).toEqual({ server: "ghcr.io", credentials: expect.any(String) });
    expect(parse("prod").registry?.server).toBe("ghcr.io");
  });
});

describe("placeholder images are refused with the fix", () => {
  test.each([
    [
      "an example organisation (the digest dev used to pin)",
      `ghcr.io/example-org/image-pipeline-worker:0.1.0@${REAL_DIGEST}`,
      "example-org",
    ],
    ["a reserved example domain", `registry.example.com/team/worker@${REAL_DIGEST}`, "reserved example domain"],
    ["a .invalid registry", `registry.invalid/offline/worker@${REAL_DIGEST}`, "reserved example domain"],
    ["a one-digit digest", `ghcr.io/acme/worker@sha256:${"0".repeat(64)}`, "placeholder digest"],
  ])("workerImage on %s", (_what, image, expected) => {
    const problems = configProblems(() => parse("dev", { workerImage: image }));
    expect(problems).toEqual([expect.stringContaining(`image-pipeline:workerImage: "${image}"`)]);
    expect(problems[0]).toContain(expected);
    expect(problems[0]).toMatch(
      /Fix: pulumi config set workerImage ghcr\.io\/<org>\/image-pipeline-worker@sha256:<digest> \(docker buildx imagetools inspect/,
    );
  });

  test("a real organisation and digest pass", () => {
    expect(placeholderImageProblem(`ghcr.io/acme/image-pipeline-worker@${REAL_DIGEST}`)).toBeUndefined();
    expect(parse("dev", { workerImage: `ghcr.io/acme/image-pipeline-worker@${REAL_DIGEST}` }).workload.image).toBe(
      `ghcr.io/acme/image-pipeline-worker@${REAL_DIGEST}`,
    );
  });

  test("postgresImage must be pinned by digest too (the project default is)", () => {
    const problems = configProblems(() => parse("dev", { postgresImage: "docker.io/library/postgres:16.9-bookworm" }));
    expect(problems).toEqual([
      expect.stringMatching(/^image-pipeline:postgresImage: .*digest.*Fix: pulumi config set postgresImage .*@sha256:/),
    ]);
    expect(parse("dev").workload.postgres.image).toMatch(/@sha256:[0-9a-f]{64}$/);
  });
});

describe("registryCredentials and registryServer", () => {
  test("a login without a user or a token is refused, naming the key", () => {
    for (const bad of ["token-only", ":token", "user:"]) {
      expect(configProblems(() => parse("dev", { registryCredentials: bad }))).toEqual([
        expect.stringMatching(/^image-pipeline:registryCredentials: must be <username>:<token>\. Fix: pulumi config set --secret/),
      ]);
    }
    expect(() => parseRegistryCredentials("user")).toThrow("image-pipeline:registryCredentials: must be <username>:<token>. Fix:");
    // The token may itself hold colons; only the first separates the user.
    expect(parseRegistryCredentials("bot:a:b")).toEqual({ username: "bot", password: "a:b" });
  });

  test("the server defaults to the image's registry host", () => {
    const cfg = parse("dev", { registryServer: undefined, workerImage: `registry.acme.io:5000/team/worker@${REAL_DIGEST}` });
    expect(cfg.registry?.server).toBe("registry.acme.io:5000");
    expect(registryHost(`team/worker@${REAL_DIGEST}`)).toBe("docker.io");
    expect(registryHost(`localhost/worker@${REAL_DIGEST}`)).toBe("localhost");
  });

  test("prod's server comes from its own image too (promotion no longer leaves it underivable)", () => {
    const cfg = parse("prod", { registryServer: undefined, workerImage: `registry.acme.io/team/worker@${REAL_DIGEST}` });
    expect(cfg.registry?.server).toBe("registry.acme.io");
  });

  test("a public image needs nothing", () => {
    const cfg = parseStackConfig(mapSource({ ...stackValues("dev", { registryServer: undefined }), registryCredentials: "" }), "dev", NOW);
    expect(cfg.registry).toBeUndefined();
  });
});
