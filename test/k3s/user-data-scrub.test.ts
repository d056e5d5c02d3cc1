/**
 * The per-boot scrub deletes cloud-init's plain-text copies of the user data and nothing cloud-init needs, run
 * for real against a copy of cloud-init's directory layout (cloudinit/helpers.py names the files).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { SCRUB_USER_DATA_PATH, scrubUserDataScriptText } from "../../infra/k3s/user-data-scrub";

let root: string;
let script: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "scrub-"));
  script = path.join(root, "scrub");
  fs.writeFileSync(script, scrubUserDataScriptText(), { mode: 0o700 });
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function put(relative: string, content = "secret: client-ca.key\n"): string {
  const file = path.join(root, relative);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  return file;
}

test("runs from cloud-init's per-boot script directory", () => {
  expect(path.dirname(SCRUB_USER_DATA_PATH)).toBe("/var/lib/cloud/scripts/per-boot");
});

test("removes the user-data copies of every instance and the merged config in /run; keeps the cache, scripts and semaphores", () => {
  const instance = "var/lib/cloud/instances/6f1c2a9e-0000-4000-8000-000000000001";
  const removed = [
    `${instance}/user-data.txt`,
    `${instance}/user-data.txt.i`,
    `${instance}/cloud-config.txt`,
    "run/cloud-init/combined-cloud-config.json",
  ];
  const kept = [
    `${instance}/obj.pkl`,
    `${instance}/scripts/runcmd`,
    `${instance}/sem/config_runcmd`,
    `${instance}/vendor-data.txt`,
    "var/lib/cloud/data/instance-id",
  ];
  for (const f of [...removed, ...kept]) put(f);
  const result = spawnSync(script, [root], { encoding: "utf8" });
  expect(result.status).toBe(0);
  expect(result.stderr).toMatch(/removed 4 copies of the user data/);
  for (const f of removed) expect({ f, exists: fs.existsSync(path.join(root, f)) }).toEqual({ f, exists: false });
  for (const f of kept) expect({ f, exists: fs.existsSync(path.join(root, f)) }).toEqual({ f, exists: true });
});

test("a second boot with nothing left to remove succeeds", () => {
  put("var/lib/cloud/instances/i-1/obj.pkl");
  const result = spawnSync(script, [root], { encoding: "utf8" });
  expect(result.status).toBe(0);
  expect(result.stderr).toMatch(/removed 0 copies/);
});
