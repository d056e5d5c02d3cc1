/**
 * Promotion through a StackReference, under Pulumi's documented unit-test mocks (a stand-in for the Pulumi service,
 * which answers a StackReference read with the other stack's outputs).
 */
import * as pulumi from "@pulumi/pulumi";

const reads: { type: string; name: string; inputs: Record<string, unknown> }[] = [];
let exportedImage: unknown;

beforeAll(async () => {
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        reads.push({ type: args.type, name: args.name, inputs: args.inputs });
        return {
          id: args.name,
          state: args.type === "pulumi:pulumi:StackReference" ? { ...args.inputs, outputs: { workerImage: exportedImage } } : args.inputs,
        };
      },
      call: (args) => args.inputs,
    },
    "image-pipeline",
    "prod",
  );
});

function resolve<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((ok, fail) => {
    output.apply((v) => ok(v));
    setTimeout(() => fail(new Error("output did not resolve")), 5000).unref();
  });
}

describe("workerImageReference", () => {
  // Imported after the mocks are in place.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { promotedImage, workerImageReference } = require("../../infra/workload") as typeof import("../../infra/workload");
  const digest = `sha256:${"c".repeat(64)}`;

  test("a configured reference is used as is, with no StackReference", async () => {
    reads.length = 0;
    expect(await resolve(workerImageReference({ kind: "reference", reference: `ghcr.io/org/w@${digest}` }))).toBe(
      `ghcr.io/org/w@${digest}`,
    );
    expect(reads).toEqual([]);
  });

  test("promoteFrom reads the workerImage output of the named stack", async () => {
    reads.length = 0;
    exportedImage = `ghcr.io/org/w:1.4.0@${digest}`;
    expect(await resolve(workerImageReference({ kind: "promote", stackReference: "example-org/image-pipeline/dev" }))).toBe(exportedImage);
    expect(reads).toEqual([
      { type: "pulumi:pulumi:StackReference", name: "promote-from", inputs: { name: "example-org/image-pipeline/dev" } },
    ]);
  });

  test("a promoted image that is not pinned by digest is refused", () => {
    expect(() => promotedImage("example-org/image-pipeline/dev", "ghcr.io/org/w:latest")).toThrow(
      /worker image "ghcr.io\/org\/w:latest" is not pinned by digest/,
    );
  });

  test("a stack without the output says what to do", () => {
    expect(() => promotedImage("example-org/image-pipeline/dev", undefined)).toThrow(
      "promoteFrom: stack example-org/image-pipeline/dev has no workerImage output; run pulumi up there first, or set workerImage instead",
    );
  });
});
