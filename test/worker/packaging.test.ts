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
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:\d+\.\d+\.\d+-bookworm-slim$/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^USER 1000:1000$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "--enable-source-maps", "dist\/worker\/src\/main\.js"\]$/m);
    const lastStage = dockerfile.slice(dockerfile.lastIndexOf("FROM "));
    expect(lastStage).not.toMatch(/npm (ci|install)/);
  });
});
