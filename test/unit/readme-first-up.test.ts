/**
 * The README's "Before the first `pulumi up`" checklists stay true: each names every setting the offline plan has to
 * stand in for on that example stack, names only declared keys, and a stack set up as they say (the secrets stored
 * encrypted, as `pulumi config set --secret` does) plans with no stand-ins.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { readCliConfig } from "../../infra/config/cli-config";
import { planStack } from "../../scripts/plan";
import { applyStandIns, OFFLINE_STAND_INS } from "../../scripts/plan-stand-ins";

const root = path.resolve(__dirname, "../..");
const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
const projectText = fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8");
const declared = new Set([
  ...Object.keys((parseYaml(projectText) as { config: Record<string, unknown> }).config),
  ...[...projectText.matchAll(/^#\s{3}(\w+)\s+\(secret\)/gm)].map((m) => m[1]),
]);

/** The keys each stack's checklist names at the start of its items. */
function checklistKeys(stack: string): string[] {
  const section = readme.split("### Before the first `pulumi up`")[1]?.split(/\n## /)[0] ?? "";
  const part = section.split(/\n\*\*`/).find((p) => p.startsWith(`${stack}\``)) ?? "";
  return [...part.matchAll(/^- \[ \] ((?:`\w+`(?: \/ )?)+)/gm)].flatMap((m) => [...m[1].matchAll(/`(\w+)`/g)].map((k) => k[1]));
}

describe.each(["dev", "prod"])("%s", (stack) => {
  test("the checklist names every setting the offline plan stands in for, and only declared keys", () => {
    const { config, secretKeys } = readCliConfig(root, stack);
    const standIns = applyStandIns(config, secretKeys);
    const keys = checklistKeys(stack);
    expect(standIns.length).toBeGreaterThan(0);
    expect(keys).toEqual(expect.arrayContaining(standIns));
    for (const key of keys) expect({ key, declared: declared.has(key) }).toEqual({ key, declared: true });
  });

  test("set up as the checklist says (secrets encrypted), the stack plans with no stand-ins", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "readme-first-up-"));
    try {
      fs.copyFileSync(path.join(root, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
      const doc = parseYaml(fs.readFileSync(path.join(root, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
      for (const standIn of OFFLINE_STAND_INS) {
        const key = `image-pipeline:${standIn.key}`;
        if (doc.config[key] !== undefined || !standIn.needed(readCliConfig(root, stack).config)) continue;
        // What `pulumi config set [--secret]` writes: ciphertext only the CLI can read, or the plain value.
        doc.config[key] = standIn.secret
          ? { secure: "v1:AAAAAAAAAAAAAAAA:b2ZmbGluZQ==" }
          : standIn.key === "s3EgressCidrs"
            ? JSON.parse(standIn.value)
            : standIn.value;
      }
      fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), stringifyYaml(doc));
      const plan = await planStack(stack, { projectDir: dir });
      expect(plan.standIns).toEqual([]);
      expect(plan.resources.find((r) => r.name === "workload-registry-credentials")?.type).toBe("kubernetes:core/v1:Secret");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
