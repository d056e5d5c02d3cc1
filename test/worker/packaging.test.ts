import fs from "node:fs";
import path from "node:path";

const root = path.resolve(__dirname, "..", "..");
const read = (f: string) => fs.readFileSync(path.join(root, f), "utf8");

describe("worker image packaging", () => {
  it("installs exactly the root project's versions of the runtime dependencies", () => {
    const rootPkg = JSON.parse(read("package.json"));
    const workerPkg = JSON.parse(read("worker/package.json"));
    const workerLock = JSON.parse(read("worker/package-lock.json"));
    for (const [name, version] of Object.entries<string>(workerPkg.dependencies)) {
      expect([name, rootPkg.dependencies[name]]).toEqual([name, version]);
      expect([name, workerLock.packages[`node_modules/${name}`]?.version]).toEqual([name, version]);
    }
    for (const [name, version] of Object.entries<string>(workerPkg.devDependencies)) {
      expect([name, rootPkg.devDependencies[name]]).toEqual([name, version]);
    }
  });

  it("every module the worker imports at run time is a declared runtime dependency", () => {
    const declared = new Set(Object.keys(JSON.parse(read("worker/package.json")).dependencies));
    const srcDir = path.join(root, "worker", "src");
    const files = fs
      .readdirSync(srcDir, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith(".ts"));
    const imported = new Set<string>();
    for (const f of files) {
      for (const m of fs.readFileSync(path.join(srcDir, f), "utf8").matchAll(/^import (?!type )[^"]*"([^".][^"]*)";$/gm)) {
        if (m[1].startsWith("node:")) continue;
        imported.add(m[1].startsWith("@") ? m[1].split("/").slice(0, 2).join("/") : m[1].split("/")[0]);
      }
    }
    expect([...imported].filter((m) => !declared.has(m))).toEqual([]);
    expect([...imported].sort()).toEqual(["@aws-sdk/client-s3", "pg", "pino", "prom-client", "sharp"]);
  });

  it("the Dockerfile runs the compiled entry point as a non-root user with production dependencies only", () => {
    const dockerfile = read("worker/Dockerfile");
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^USER 1000:1000$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "--enable-source-maps", "dist\/worker\/src\/main\.js"\]$/m);
    const lastStage = dockerfile.slice(dockerfile.lastIndexOf("FROM "));
    expect(lastStage).not.toMatch(/npm (ci|install)/);
  });

  it("builds on the official node image of an LTS line newer than 20, pinned by a real-looking digest", () => {
    const dockerfile = read("worker/Dockerfile");
    const args = [...dockerfile.matchAll(/^ARG NODE_IMAGE=(.*)$/gm)].map((m) => m[1]);
    expect(args).toHaveLength(1);
    const m = /^node:(\d+)\.\d+\.\d+-bookworm-slim@sha256:([a-f0-9]{64})$/.exec(args[0]);
    expect(m).not.toBeNull();
    const [major, digest] = [Number(m![1]), m![2]];
    // Node 20 reaches end of life on 2026-04-30; up to Node 26 only even lines become LTS.
    expect(major).toBeGreaterThan(20);
    expect(major > 26 || major % 2 === 0).toBe(true);
    // A placeholder (one repeated digit, an obvious pattern) is refused rather than deployed.
    expect(new Set(digest).size).toBeGreaterThan(4);
    // Every stage builds on that one argument.
    const froms = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((f) => f[1]);
    expect(froms.length).toBeGreaterThanOrEqual(2);
    expect(new Set(froms)).toEqual(new Set(["${NODE_IMAGE}"]));
  });

  it("Renovate's custom manager finds the pinned base, so digest and version updates reach the Dockerfile", () => {
    const renovate = JSON.parse(read("renovate.json"));
    expect(renovate.enabledManagers).toEqual(["custom.regex"]);
    const [manager] = renovate.customManagers;
    expect(manager.datasourceTemplate).toBe("docker");
    const filePattern = /^\/(.*)\/$/.exec(manager.managerFilePatterns[0])![1];
    expect(new RegExp(filePattern).test("worker/Dockerfile")).toBe(true);
    const found = [...read("worker/Dockerfile").matchAll(new RegExp(manager.matchStrings[0], "g"))].map((x) => x.groups);
    const pinned = /^ARG NODE_IMAGE=node:(\S+)@(\S+)$/m.exec(read("worker/Dockerfile"))!;
    expect(found).toEqual([{ depName: "node", currentValue: pinned[1], currentDigest: pinned[2] }]);
    // A new major (the next LTS line) is a deliberate move: it waits for approval.
    expect(renovate.packageRules).toContainEqual(
      expect.objectContaining({ matchPackageNames: ["node"], matchUpdateTypes: ["major"], dependencyDashboardApproval: true }),
    );
  });
});
