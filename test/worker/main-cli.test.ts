/** The worker's entry point as a process: start-up errors and usage (child processes, so in the integration lane). */
import { spawnSync } from "node:child_process";
import path from "node:path";

describe("main.js start-up", () => {
  it("exits 2 with one message listing every missing variable", () => {
    const main = path.resolve(__dirname, "..", "..", "worker", "src", "main.ts");
    const r = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", main, "webhook"], {
      env: { PATH: process.env.PATH ?? "" },
      encoding: "utf8",
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("Invalid configuration (3 problems)");
    for (const n of ["DATABASE_URL", "INPUT_BUCKET", "WEBHOOK_SECRET"]) expect(r.stderr).toContain(`- ${n} is required for 'webhook'`);
    const usage = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", main, "frobnicate"], { encoding: "utf8" });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain("usage: main.js webhook | worker | migrate");
  });
});
