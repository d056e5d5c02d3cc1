/**
 * Drives the SDK's own dynamic-provider host (`@pulumi/pulumi/cmd/dynamic-provider`, the process the engine starts
 * as `pulumi-resource-pulumi-nodejs`) over its gRPC interface, the way the engine does: Configure once, then Check
 * and Diff per resource. The host deserialises each resource's `__provider` closure and calls its methods, so a
 * dynamic provider is exercised exactly as it runs under `pulumi preview`.
 *
 * Engine behaviour reproduced here (pulumi/pulumi sdk/go/common/resource/plugin/provider_plugin.go, `Configure` and
 * `Check`): the host answers Configure with acceptSecrets=false, so the engine strips secrets before Check and Diff;
 * during a preview it keeps unknown values as the unknown placeholder string.
 *
 * Relies on SDK internals (checked against @pulumi/pulumi SDK_VERSION_CHECKED, test/unit/sdk-hook.test.ts): the
 * host script's path, its "print the port on stdout" start-up contract, the generated gRPC client in
 * `proto/provider_grpc_pb` and the request classes in `proto/provider_pb`.
 */
import { ChildProcess, spawn } from "child_process";
import * as path from "path";
import { SDK_VERSION_CHECKED, SECRET_SIG, SIG_KEY } from "./monitor-hook";

/* eslint-disable @typescript-eslint/no-require-imports, @typescript-eslint/no-explicit-any */
const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
const fromPulumi = (id: string) => require(require.resolve(id, { paths: [pulumiDir] }));
const grpc = fromPulumi("@grpc/grpc-js");
const structproto = fromPulumi("google-protobuf/google/protobuf/struct_pb");
const provproto = require("@pulumi/pulumi/proto/provider_pb");
const provrpc = require("@pulumi/pulumi/proto/provider_grpc_pb");
/* eslint-enable @typescript-eslint/no-require-imports */

export const HOST_SCRIPT = require.resolve("@pulumi/pulumi/cmd/dynamic-provider");

export interface CheckFailure {
  readonly property: string;
  readonly reason: string;
}

export interface CheckResult {
  readonly inputs: Record<string, unknown>;
  readonly failures: CheckFailure[];
}

export interface DiffResult {
  /** "some", "none" or "unknown", as the host reports DiffResponse.changes. */
  readonly changes: "some" | "none" | "unknown";
  readonly replaces: string[];
  readonly deleteBeforeReplace: boolean;
}

/** Removes secret wrappers, as the engine does for a provider that does not accept secrets. */
export function stripSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripSecrets);
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (obj[SIG_KEY] === SECRET_SIG) return stripSecrets(obj.value);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) out[k] = stripSecrets(v);
    return out;
  }
  return value;
}

const DIFF_CHANGES: Record<number, DiffResult["changes"]> = { 0: "unknown", 1: "none", 2: "some" };

export class DynamicProviderHost {
  private constructor(
    private readonly child: ChildProcess,
    private readonly client: any,
  ) {}

  /** Starts the host with `cwd` as its working directory (the engine runs it in the project directory). */
  static async start(cwd: string): Promise<DynamicProviderHost> {
    // The engine passes its own address; the host only checks that one is given.
    const child = spawn(process.execPath, [HOST_SCRIPT, "127.0.0.1:0"], { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const port = await new Promise<number>((resolve, reject) => {
      let stdout = "";
      const onData = (chunk: Buffer) => {
        stdout += chunk.toString();
        const line = /^(\d+)\s*$/m.exec(stdout);
        if (line) {
          child.stdout!.off("data", onData);
          resolve(Number(line[1]));
        }
      };
      child.stdout!.on("data", onData);
      child.once("exit", (code) =>
        reject(
          new Error(
            `the dynamic-provider host ${HOST_SCRIPT} exited (${code}) before printing its port (checked against @pulumi/pulumi ${SDK_VERSION_CHECKED}): ${stderr}`,
          ),
        ),
      );
      child.once("error", reject);
    });
    // Whatever the host prints later (provider diagnostics) goes to our stderr, as the engine shows it.
    child.stdout!.on("data", (chunk: Buffer) => process.stderr.write(chunk));
    const client = new provrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    const host = new DynamicProviderHost(child, client);
    await host.configure();
    return host;
  }

  private call<T>(method: string, request: unknown): Promise<T> {
    return new Promise((resolve, reject) =>
      this.client[method](request, (err: Error | null, response: T) => (err ? reject(err) : resolve(response))),
    );
  }

  private async configure(): Promise<void> {
    const req = new provproto.ConfigureRequest();
    req.setArgs(structproto.Struct.fromJavaScript({}));
    req.setAcceptsecrets(true);
    req.setAcceptresources(true);
    const resp = await this.call<{ getAcceptsecrets(): boolean }>("configure", req);
    if (resp.getAcceptsecrets()) {
      // The engine would then pass secrets through, and `stripSecrets` would no longer be what it does.
      throw new Error(`the dynamic-provider host now accepts secrets (checked against @pulumi/pulumi ${SDK_VERSION_CHECKED})`);
    }
  }

  /** Check as the engine calls it for a new resource: no old inputs. */
  async check(urn: string, news: Record<string, unknown>, olds: Record<string, unknown> = {}): Promise<CheckResult> {
    const req = new provproto.CheckRequest();
    req.setUrn(urn);
    req.setOlds(structproto.Struct.fromJavaScript(olds));
    req.setNews(structproto.Struct.fromJavaScript(news));
    const resp = await this.call<any>("check", req);
    return {
      inputs: resp.getInputs()?.toJavaScript() ?? {},
      failures: resp.getFailuresList().map((f: any) => ({ property: f.getProperty(), reason: f.getReason() })),
    };
  }

  async diff(urn: string, id: string, olds: Record<string, unknown>, news: Record<string, unknown>): Promise<DiffResult> {
    const req = new provproto.DiffRequest();
    req.setId(id);
    req.setUrn(urn);
    req.setOlds(structproto.Struct.fromJavaScript(olds));
    req.setOldInputs(structproto.Struct.fromJavaScript(olds));
    req.setNews(structproto.Struct.fromJavaScript(news));
    const resp = await this.call<any>("diff", req);
    return {
      changes: DIFF_CHANGES[resp.getChanges()] ?? "unknown",
      replaces: resp.getReplacesList(),
      deleteBeforeReplace: resp.getDeletebeforereplace(),
    };
  }

  /** Closes the connection and ends the host process (only the one this object started). */
  async stop(): Promise<void> {
    this.client.close();
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  }
}
/* eslint-enable @typescript-eslint/no-explicit-any */
