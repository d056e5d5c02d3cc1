import { parseCommandLine } from "../../common/command-line";

const USAGE = "usage: tool --stack <name> [--json]";
const OPTIONS = { stack: { type: "string" }, json: { type: "boolean" } } as const;

describe("parseCommandLine (node:util parseArgs, strict)", () => {
  test("reads --name value, --name=value and flags", () => {
    expect(parseCommandLine(["--stack", "dev", "--json"], OPTIONS, USAGE)).toEqual({ stack: "dev", json: true });
    expect(parseCommandLine(["--stack=prod"], OPTIONS, USAGE)).toEqual({ stack: "prod" });
  });

  test.each([
    [["--stack"], "--stack needs a value; " + USAGE],
    [["--stack", "--json"], "--stack needs a value; " + USAGE],
    [["--json=yes"], "--json takes no value; " + USAGE],
    [["--yaml"], "unknown argument --yaml; " + USAGE],
    [["dev"], "unknown argument dev; " + USAGE],
  ])("%j is refused, naming the argument and the usage", (argv, message) => {
    expect(() => parseCommandLine(argv, OPTIONS, USAGE)).toThrow(message);
  });
});
