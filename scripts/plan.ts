/**
 * Offline plan: evaluates the program for a stack under Pulumi's documented unit-test mocks
 * (`pulumi.runtime.setMocks`), with the stack's Pulumi.<stack>.yaml config and no CLI or credentials, and
 * lists every declared resource. Reviewers and tests use it to see the whole graph without a cloud.
 *
 *   npm run plan -- --stack dev [--json] [--show-secrets] [--preview] [--config <key>=<value>]...
 *
 * Mocked outputs are placeholders (ids, a documentation-range floating IP, dummy PEMs); the program must
 * never depend on their particular values.
 *
 * `--preview` evaluates the program as the first `pulumi preview` of a new stack does instead (see
 * scripts/preview/first-preview.ts): every value the engine learns only by creating a resource is unknown, and
 * every dynamic resource goes through the SDK's dynamic-provider host (`check`, then `diff` against no old
 * state). It fails naming each resource whose provider rejects what a preview sends.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { listStacks, readCliConfig, type CliConfig } from "../infra/config/cli-config";
import { checkDynamicResources, DynamicResourceCheck, formatCheckFailures, previewState } from "./preview/first-preview";
import { parseCommandLine } from "../common/command-line";
import { applyStandIns } from "./plan-stand-ins";
import {
  deserializeInputs,
  observeRegistrations,
  outputState,
  Registration,
  RESOURCE_SIG,
  SECRET_SIG,
  SIG_KEY,
  waitForRPCs,
} from "./sdk/monitor-hook";

export interface PlannedResource {
  readonly type: string;
  readonly name: string;
  /** Name of the parent resource, or undefined for top-level resources. */
  readonly parent?: string;
  readonly inputs: Record<string, unknown>;
  /** Names of the resources this one depends on (explicit dependsOn and input dependencies). */
  readonly dependsOn: string[];
  /** Name of the explicit provider resource, when one is set. */
  readonly provider?: string;
  /** Resource options that change how updates happen; reviewers need to see them as much as inputs. */
  readonly options: {
    /** Present (true) only when set, so plans of commits from before it was recorded compare equal. */
    protect?: true;
    ignoreChanges: string[];
    replaceOnChanges: string[];
    deleteBeforeReplace: boolean;
    retainOnDelete: boolean;
    additionalSecretOutputs: string[];
    /** A value whose change replaces the resource (undefined when not set). */
    replacementTrigger?: unknown;
  };
}

export interface Plan {
  readonly stack: string;
  readonly resources: PlannedResource[];
  readonly outputs: Record<string, unknown>;
  /** With `preview`: what the dynamic-provider host answered for each dynamic resource. */
  readonly dynamicChecks?: DynamicResourceCheck[];
  /** Settings the stack leaves to the operator that the plan filled with offline stand-ins (plan-stand-ins.ts). */
  readonly standIns?: string[];
}

export interface PlanOptions {
  /** Print secret values instead of "[secret]" (offline they are mock values). */
  readonly showSecrets?: boolean;
  /** Directory holding Pulumi.yaml and the stack files (default: the repository root). */
  readonly projectDir?: string;
  /** Overrides applied on top of the stack file, e.g. { "image-pipeline:nodeCount": "4" }. */
  readonly configOverrides?: Record<string, string>;
  /**
   * Evaluate as the first `pulumi preview` of a new stack: values known only after creation are unknown, and
   * each dynamic resource is checked through the SDK's dynamic-provider host.
   */
  readonly preview?: boolean;
  /** The program to evaluate instead of the image pipeline (tests of the plan machinery itself). */
  readonly program?: () => unknown;
  /**
   * Ids the mocks give named resources instead of `<name>-id`: a replaced resource comes back with a new id, so a
   * test can show what that changes downstream (not used in preview mode, where ids are unknown).
   */
  readonly resourceIds?: Record<string, string>;
}

export const SECRET_PLACEHOLDER = "[secret]";
/** How the plan shows a value that is not known until its resource is created. */
export const UNKNOWN_PLACEHOLDER = "[unknown]";
export const MOCK_FLOATING_IP = "203.0.113.10";
/** The external network's gateway (the router's interface on it) and the router's public address, offline. */
export const MOCK_GATEWAY_IP = "192.0.2.1";
export const MOCK_ROUTER_GATEWAY_IP = "198.51.100.1";
/** Where the offline plan says a downloaded node image was kept. */
export const MOCK_IMAGE_CACHE_DIR = "/offline-plan/cache/image-pipeline/node-images";
/** The public address of an external DBaaS instance (CSC Pukki), offline. */
export const MOCK_DBAAS_PUBLIC_ADDRESS = "198.51.100.40";

/** The stack's config as the CLI passes it (stack file over Pulumi.yaml defaults), for `pulumi.runtime.setAllConfig`. */
export function readStackConfig(projectDir: string, stack: string): CliConfig {
  return readCliConfig(projectDir, stack);
}

export { listStacks };

const PEM = (label: string, name: string) =>
  `-----BEGIN ${label}-----\n${Buffer.from(`offline-plan-${name}`).toString("base64")}\n-----END ${label}-----\n`;

/**
 * Plausible computed outputs for resources whose outputs the program reads. A resource given another id
 * (`PlanOptions.resourceIds`: it was replaced) gets other computed values too, as a real replacement would.
 */
export function mockOutputs(
  type: string,
  resourceName: string,
  inputs: Record<string, unknown>,
  replacedBy?: string,
): Record<string, unknown> {
  const name = replacedBy ? `${resourceName}~${replacedBy}` : resourceName;
  switch (type) {
    case "openstack:networking/floatingIp:FloatingIp":
      return { address: replacedBy ? "203.0.113.11" : MOCK_FLOATING_IP };
    case "openstack:compute/instance:Instance":
      return { accessIpV4: "198.51.100.20" };
    case "tls:index/privateKey:PrivateKey":
      return {
        privateKeyPem: PEM("PRIVATE KEY", name),
        publicKeyPem: PEM("PUBLIC KEY", name),
        privateKeyPemPkcs8: PEM("PRIVATE KEY", name),
      };
    case "tls:index/selfSignedCert:SelfSignedCert":
    case "tls:index/locallySignedCert:LocallySignedCert":
      return { certPem: PEM("CERTIFICATE", name) };
    case "tls:index/certRequest:CertRequest":
      return { certRequestPem: PEM("CERTIFICATE REQUEST", name) };
    case "random:index/randomPassword:RandomPassword":
      return { result: `offline-password-${name}`, bcryptHash: "$2a$10$offline" };
    case "random:index/randomString:RandomString":
      return { result: `offline-${name}` };
    case "random:index/randomBytes:RandomBytes":
      return { hex: "00".repeat(Number(inputs.length ?? 32)), base64: "AA==" };
    case "random:index/randomId:RandomId":
      return { hex: "0123abcd", b64Url: "ASOrzQ", dec: "19114957" };
    case "pulumi-nodejs:dynamic/image-pipeline:TroveInstanceAccess":
      // The public address Trove attaches when the instance is made public.
      return { publicAddress: replacedBy ? "198.51.100.41" : MOCK_DBAAS_PUBLIC_ADDRESS };
    case "pulumi-nodejs:dynamic/image-pipeline:RgwTopic":
      return { arn: `arn:aws:sns:${String(inputs.region ?? "default")}::${String(inputs.name)}`, revision: "offline" };
    case "openstack:database/instance:Instance":
      // A private-network address, as Trove reports for an instance on that network only.
      return { addresses: [replacedBy ? "192.168.1.51" : "192.168.1.50"] };
    case "openstack:identity/ec2CredentialV3:Ec2CredentialV3":
      return {
        access: `offline-access-${name}`,
        secret: `offline-secret-${name}`,
        projectId: "0123456789abcdef0123456789abcdef",
        userId: "fedcba9876543210fedcba9876543210",
      };
    case "pulumi-nodejs:dynamic/image-pipeline:VerifiedImageFile": {
      // A downloaded image is kept in the uploading machine's cache as <sha256>.img; a local file is used in place.
      const source = String(inputs.source);
      return { path: /^https?:\/\//i.test(source) ? `${MOCK_IMAGE_CACHE_DIR}/${String(inputs.sha256)}.img` : source, sizeBytes: 1 << 20 };
    }
    case "pulumi-nodejs:dynamic/image-pipeline:BlazarLease":
      return {
        leaseId: `lease-${name}`,
        reservationId: `reservation-${name}`,
        status: "ACTIVE",
        reservedFlavorId: `reservation-${name}`,
        leaseEndDate: "2030-01-01T00:00:00.000Z",
      };
    default:
      return {};
  }
}

function mockInvoke(token: string, args: Record<string, unknown>): Record<string, unknown> {
  switch (token) {
    case "openstack:networking/getNetwork:getNetwork":
      return { ...args, id: `network-${String(args.name)}` };
    case "openstack:compute/getFlavor:getFlavor":
      return { ...args, id: `flavor-${String(args.name)}` };
    case "openstack:images/getImage:getImage":
      return { ...args, id: `image-${String(args.name)}` };
    case "openstack:networking/getSubnet:getSubnet":
      return {
        ...args,
        id: `subnet-of-${String(args.networkId)}`,
        name: `subnet-of-${String(args.networkId)}`,
        gatewayIp: MOCK_GATEWAY_IP,
      };
    case "openstack:networking/getPort:getPort":
      return { ...args, id: `port-${String(args.fixedIp)}`, deviceId: "router-offline", deviceOwner: "network:router_interface" };
    case "openstack:networking/getRouter:getRouter":
      return { ...args, id: String(args.routerId), name: "router-offline", externalFixedIps: [{ ipAddress: MOCK_ROUTER_GATEWAY_IP }] };
    default:
      return args;
  }
}

function urnName(urn: string): string {
  return urn.split("::").pop() ?? urn;
}

/**
 * Turns deserialized RPC values into plain JSON: secrets to the placeholder, resource references to names,
 * unknown values (previews) to UNKNOWN_PLACEHOLDER.
 */
function present(value: unknown, showSecrets: boolean): unknown {
  if (pulumi.isUnknown(value)) return UNKNOWN_PLACEHOLDER;
  if (Array.isArray(value)) return value.map((v) => present(v, showSecrets));
  if (value !== null && typeof value === "object") {
    const obj = value as Record<string, unknown>;
    if (obj[SIG_KEY] === SECRET_SIG) return showSecrets ? present(obj.value, showSecrets) : SECRET_PLACEHOLDER;
    if (obj[SIG_KEY] === RESOURCE_SIG) return `resource:${urnName(String(obj.urn))}`;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) {
      // The serialized dynamic provider is code, not configuration.
      if (k === "__provider") continue;
      out[k] = present(v, showSecrets);
    }
    return out;
  }
  return value;
}

async function resolveOutputs(value: unknown, showSecrets: boolean): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) {
    // Not `apply`: it never runs for a value that is unknown in a preview.
    const state = await outputState(value as pulumi.Output<unknown>);
    if (state.secret && !showSecrets) return SECRET_PLACEHOLDER;
    return state.known ? resolveOutputs(state.value, showSecrets) : UNKNOWN_PLACEHOLDER;
  }
  if (Array.isArray(value)) return Promise.all(value.map((v) => resolveOutputs(v, showSecrets)));
  if (value !== null && typeof value === "object" && !(value instanceof pulumi.Resource)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = await resolveOutputs(v, showSecrets);
    return out;
  }
  if (value instanceof pulumi.Resource) return "[resource]";
  return value;
}

function plannedResource(r: Registration, showSecrets: boolean): PlannedResource {
  const provider = r.providerRef;
  return {
    type: r.type,
    name: r.name,
    parent: r.parentUrn ? urnName(r.parentUrn) : undefined,
    inputs: present(deserializeInputs(r.serializedInputs), showSecrets) as Record<string, unknown>,
    dependsOn: [...new Set(r.dependencyUrns.map(urnName))].sort(),
    provider: provider ? urnName(provider.split("::").slice(0, -1).join("::")) : undefined,
    options: {
      ...(r.options.protect ? { protect: true as const } : {}),
      ignoreChanges: r.options.ignoreChanges,
      replaceOnChanges: r.options.replaceOnChanges,
      deleteBeforeReplace: r.options.deleteBeforeReplace,
      retainOnDelete: r.options.retainOnDelete,
      additionalSecretOutputs: r.options.additionalSecretOutputs,
      replacementTrigger: r.options.replacementTrigger === undefined ? undefined : present(r.options.replacementTrigger, showSecrets),
    },
  };
}

/**
 * Evaluates the program for `stack` under mocks. Pulumi's runtime state is process-global, so plans in one
 * process run one after another (jest isolates test files; plan-diff.ts's `planInChild` uses a process per plan).
 */
export async function planStack(stack: string, options: PlanOptions = {}): Promise<Plan> {
  const projectDir = options.projectDir ?? path.resolve(__dirname, "..");
  const showSecrets = options.showSecrets ?? false;
  const preview = options.preview ?? false;
  const { config, secretKeys } = readStackConfig(projectDir, stack);
  Object.assign(config, options.configOverrides ?? {});
  const standIns = applyStandIns(config, secretKeys, Object.keys(options.configOverrides ?? {}));
  pulumi.runtime.setAllConfig(config, secretKeys);

  const registrations: Registration[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource: (args) =>
        preview
          ? previewState(args, mockOutputs)
          : {
              id: options.resourceIds?.[args.name] ?? `${args.name}-id`,
              state: { ...args.inputs, ...mockOutputs(args.type, args.name, args.inputs, options.resourceIds?.[args.name]) },
            },
      call: (args) => mockInvoke(args.token, args.inputs),
    },
    "image-pipeline",
    stack,
    preview,
  );
  // The mocks API passes on type, name and inputs only; the hook also sees parent, dependencies, provider, options.
  observeRegistrations((r) => registrations.push(r));

  const program =
    options.program ??
    (() => {
      // Imported after the config is set: the program reads config when it runs.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { imagePipeline } = require("../infra/program") as typeof import("../infra/program");
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { parseStackConfig } = require("../infra/config") as typeof import("../infra/config");
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { pulumiConfigSource } = require("../infra/config/pulumi-source") as typeof import("../infra/config/pulumi-source");
      return imagePipeline(parseStackConfig(pulumiConfigSource(), stack));
    });
  const programOutputs = program();
  const outputs = (await resolveOutputs(programOutputs, showSecrets)) as Record<string, unknown>;
  await waitForRPCs();
  const resources = registrations.map((r) => plannedResource(r, showSecrets));
  if (!preview) return { stack, resources, outputs, standIns };
  const dynamicChecks = await checkDynamicResources(registrations, { stack, project: "image-pipeline", cwd: projectDir });
  return { stack, resources, outputs, standIns, dynamicChecks };
}

function formatText(plan: Plan): string {
  const lines = [`stack ${plan.stack}: ${plan.resources.length} resources`];
  for (const r of plan.resources) {
    lines.push(
      `\n${r.type}  ${r.name}${r.parent ? `  (parent ${r.parent})` : ""}${r.provider ? `  provider ${r.provider}` : ""}${r.dependsOn.length ? `  dependsOn [${r.dependsOn.join(", ")}]` : ""}`,
    );
    for (const [k, v] of Object.entries(r.inputs)) lines.push(`    ${k}: ${JSON.stringify(v)}`);
  }
  if (plan.standIns?.length)
    lines.push(
      `\noffline stand-ins for settings to make before the first \`pulumi up\` (README, Deploying for real): ${plan.standIns.join(", ")}`,
    );
  lines.push("\noutputs:");
  for (const [k, v] of Object.entries(plan.outputs)) lines.push(`    ${k}: ${JSON.stringify(v)}`);
  return lines.join("\n");
}

export interface PlanArgs {
  readonly stack: string;
  readonly json: boolean;
  readonly showSecrets: boolean;
  readonly preview: boolean;
  /** From `--config <key>=<value>`; a key without a namespace gets the project's, as `pulumi config set` does. */
  readonly configOverrides: Record<string, string>;
}

const USAGE = "usage: npm run plan -- --stack <name> [--json] [--show-secrets] [--preview] [--config <key>=<value>]...";

export function parseArgs(argv: string[]): PlanArgs {
  const values = parseCommandLine(
    argv,
    {
      stack: { type: "string" },
      json: { type: "boolean" },
      "show-secrets": { type: "boolean" },
      preview: { type: "boolean" },
      config: { type: "string", multiple: true },
    },
    USAGE,
  );
  const stack = values.stack ?? "";
  const json = values.json ?? false;
  const showSecrets = values["show-secrets"] ?? false;
  const preview = values.preview ?? false;
  const configOverrides: Record<string, string> = {};
  for (const setting of values.config ?? []) {
    const eq = setting.indexOf("=");
    if (eq <= 0) throw new Error(`--config takes <key>=<value>, got "${setting}"; ${USAGE}`);
    const key = setting.slice(0, eq);
    configOverrides[key.includes(":") ? key : `image-pipeline:${key}`] = setting.slice(eq + 1);
  }
  if (!stack) throw new Error(`--stack is required; stacks: ${listStacks(path.resolve(__dirname, "..")).join(", ")}`);
  return { stack, json, showSecrets, preview, configOverrides };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const plan = await planStack(args.stack, { showSecrets: args.showSecrets, preview: args.preview, configOverrides: args.configOverrides });
  const out = args.json
    ? JSON.stringify(
        plan.resources.map(({ type, name, parent, provider, inputs, dependsOn }) => ({ type, name, parent, provider, inputs, dependsOn })),
        null,
        2,
      )
    : formatText(plan);
  process.stdout.write(`${out}\n`);
  if (plan.dynamicChecks) {
    const failures = formatCheckFailures(plan.dynamicChecks);
    if (failures.length > 0) {
      process.stderr.write(`the first preview of stack ${plan.stack} would fail:\n${failures.map((f) => `  - ${f}`).join("\n")}\n`);
      process.exit(1);
    }
    const names = plan.dynamicChecks.map((c) => c.name).join(", ") || "none";
    process.stderr.write(
      `first preview of stack ${plan.stack}: dynamic resources that pass check and diff in the SDK's provider host: ${names}\n`,
    );
  }
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  });
}
