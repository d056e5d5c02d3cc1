/**
 * STAND-IN for an external DBaaS such as CSC Pukki (Keystone v3 + Trove v1.0), which cannot run here. It follows
 * the published contracts the Trove access provider relies on, and nothing more:
 *   - Keystone `POST /v3/auth/tokens` with an application credential (201, X-Subject-Token, a catalog whose
 *     `database` endpoint ends in /v1.0/<project id>), https://docs.openstack.org/api-ref/identity/v3/;
 *   - Trove `GET /v1.0/{project}/instances/{id}` (the instance with `status`, `addresses` typed private/public and
 *     `access`) and `PUT` with `{"instance": {"access": {"is_public", "allowed_cidrs"}}}` answered 202 and applied
 *     later, https://docs.openstack.org/api-ref/database/ (Update instance accessbility). The request schema is
 *     Trove's own (trove/common/apischema.py "edit": access has only is_public and allowed_cidrs, IPv4 CIDRs,
 *     unique items; one attribute besides `name` per request). A missing `is_public` means private and a missing
 *     `allowed_cidrs` means open to all, as the API reference says;
 *   - CSC Pukki's rules (docs.csc.fi/cloud/dbaas/firewalls/): 0.0.0.0/0 and ranges wider than /22 are refused, and
 *     an update replaces the whole list. Pukki's exact error text is not published; the messages here are ours.
 * Making an instance public attaches a "public" address, as Trove does with a floating IP.
 * Every request is recorded so tests can assert exactly what was sent.
 */
import * as http from "http";
import type { AddressInfo } from "net";

export const FAKE_TROVE_TOKEN = "gAAAAABfake-pukki-token";
export const FAKE_TROVE_PROJECT = "a1b2c3d4e5f60718293a4b5c6d7e8f90";
export const FAKE_TROVE_PUBLIC_ADDRESS = "195.148.30.38";

export interface RecordedTroveRequest {
  readonly method: string;
  readonly path: string;
  readonly token?: string;
  readonly body: unknown;
}

interface FakeInstance {
  id: string;
  name: string;
  status: string;
  /** Reads still answered with BUILD. */
  buildReads: number;
  isPublic: boolean;
  allowedCidrs: string[];
  publicAddress?: string;
  fault?: string;
  /** An accepted update waiting for the task manager; applied after `reads` more GETs. */
  pending?: { isPublic: boolean; allowedCidrs: string[]; reads: number };
}

export interface FakeTroveOptions {
  readonly applicationCredential: { id: string; secret: string };
  /** A cPouta-like catalog with compute and no database service. */
  readonly omitDatabaseService?: boolean;
  /** GETs after a PUT before the new access shows (the task manager's delay). */
  readonly applyAfterReads?: number;
  /** The task manager fails the update: the instance goes to ERROR with this fault. */
  readonly failUpdateWith?: string;
}

const CIDR = /^([0-9]{1,3}\.){3}[0-9]{1,3}(\/([0-9]|[1-2][0-9]|3[0-2]))?$/;

export class FakeTrove {
  readonly requests: RecordedTroveRequest[] = [];
  readonly instances = new Map<string, FakeInstance>();
  private server?: http.Server;
  url = "";

  constructor(private readonly options: FakeTroveOptions) {}

  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      let data = "";
      req.on("data", (chunk) => (data += chunk));
      req.on("end", () => this.handle(req, data, res));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  get authUrl(): string {
    return `${this.url}/identity/v3`;
  }

  /** An instance as Trove has it right after `openstack database instance create` without access: private. */
  addInstance(
    id: string,
    name: string,
    init: Partial<Pick<FakeInstance, "status" | "buildReads" | "isPublic" | "allowedCidrs">> = {},
  ): void {
    const isPublic = init.isPublic ?? false;
    this.instances.set(id, {
      id,
      name,
      status: init.status ?? "ACTIVE",
      buildReads: init.buildReads ?? 0,
      isPublic,
      allowedCidrs: init.allowedCidrs ?? [],
      publicAddress: isPublic ? FAKE_TROVE_PUBLIC_ADDRESS : undefined,
    });
  }

  troveRequests(): RecordedTroveRequest[] {
    return this.requests.filter((r) => r.path.startsWith("/database/"));
  }

  private send(res: http.ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { "Content-Type": "application/json", ...headers });
    res.end(body === undefined ? "" : JSON.stringify(body));
  }

  private fail(res: http.ServerResponse, status: number, kind: string, message: string): void {
    this.send(res, status, { [kind]: { code: status, message } });
  }

  private handle(req: http.IncomingMessage, data: string, res: http.ServerResponse): void {
    const path = req.url ?? "";
    let body: unknown;
    try {
      body = data === "" ? undefined : JSON.parse(data);
    } catch {
      return this.fail(res, 400, "badRequest", "the request body is not JSON");
    }
    this.requests.push({ method: req.method ?? "", path, token: req.headers["x-auth-token"] as string | undefined, body });

    if (req.method === "POST" && path === "/identity/v3/auth/tokens") return this.authenticate(body, res);
    const prefix = `/database/v1.0/${FAKE_TROVE_PROJECT}/instances/`;
    if (!path.startsWith(prefix)) return this.fail(res, 404, "itemNotFound", "The resource could not be found.");
    if (req.headers["x-auth-token"] !== FAKE_TROVE_TOKEN)
      return this.fail(res, 401, "unauthorized", "The request you have made requires authentication.");
    const instance = this.instances.get(decodeURIComponent(path.slice(prefix.length)));
    if (!instance) return this.fail(res, 404, "itemNotFound", `Instance ${path.slice(prefix.length)} could not be found.`);
    if (req.method === "GET") return this.show(instance, res);
    if (req.method === "PUT") return this.update(instance, body, res);
    return this.fail(res, 405, "badMethod", `${req.method} is not allowed`);
  }

  private authenticate(body: unknown, res: http.ServerResponse): void {
    const identity = (body as { auth?: { identity?: { methods?: string[]; application_credential?: { id?: string; secret?: string } } } })
      ?.auth?.identity;
    const credential = identity?.application_credential;
    if (
      identity?.methods?.[0] !== "application_credential" ||
      credential?.id !== this.options.applicationCredential.id ||
      credential?.secret !== this.options.applicationCredential.secret
    ) {
      return this.send(res, 401, {
        error: { code: 401, message: "The request you have made requires authentication.", title: "Unauthorized" },
      });
    }
    const region = "pukki_dbaas";
    const catalog: { type: string; endpoints: { interface: string; region: string; region_id: string; url: string }[] }[] = [
      { type: "identity", endpoints: [{ interface: "public", region, region_id: region, url: this.authUrl }] },
    ];
    if (this.options.omitDatabaseService) {
      catalog.push({ type: "compute", endpoints: [{ interface: "public", region, region_id: region, url: `${this.url}/compute/v2.1` }] });
    } else {
      catalog.push({
        type: "database",
        endpoints: [
          { interface: "internal", region, region_id: region, url: `http://10.0.0.1:8779/v1.0/${FAKE_TROVE_PROJECT}` },
          { interface: "public", region, region_id: region, url: `${this.url}/database/v1.0/${FAKE_TROVE_PROJECT}` },
        ],
      });
    }
    this.send(
      res,
      201,
      { token: { expires_at: "2099-01-01T00:00:00.000000Z", project: { id: FAKE_TROVE_PROJECT }, catalog } },
      {
        "X-Subject-Token": FAKE_TROVE_TOKEN,
      },
    );
  }

  private show(instance: FakeInstance, res: http.ServerResponse): void {
    if (instance.status === "BUILD") {
      if (instance.buildReads > 0) instance.buildReads--;
      else instance.status = "ACTIVE";
    }
    if (instance.pending) {
      if (instance.pending.reads > 0) instance.pending.reads--;
      else this.applyPending(instance);
    }
    const addresses: { address: string; type: string; network?: string }[] = [
      { address: "10.0.0.15", type: "private", network: "pukki-internal" },
    ];
    if (instance.publicAddress) addresses.push({ address: instance.publicAddress, type: "public" });
    this.send(res, 200, {
      instance: {
        id: instance.id,
        name: instance.name,
        status: instance.status,
        operating_status: instance.status === "ACTIVE" ? "HEALTHY" : "",
        addresses,
        access: { is_public: instance.isPublic, allowed_cidrs: instance.allowedCidrs },
        ...(instance.fault ? { fault: { message: instance.fault } } : {}),
      },
    });
  }

  private applyPending(instance: FakeInstance): void {
    const pending = instance.pending!;
    instance.pending = undefined;
    if (this.options.failUpdateWith) {
      instance.status = "ERROR";
      instance.fault = this.options.failUpdateWith;
      return;
    }
    // The whole list is replaced; public attaches an address, private removes it.
    instance.isPublic = pending.isPublic;
    instance.allowedCidrs = pending.allowedCidrs;
    instance.publicAddress = pending.isPublic ? FAKE_TROVE_PUBLIC_ADDRESS : undefined;
  }

  private update(instance: FakeInstance, body: unknown, res: http.ServerResponse): void {
    const fields = (body as { instance?: Record<string, unknown> } | undefined)?.instance;
    if (fields === undefined || typeof fields !== "object" || fields === null) {
      return this.fail(res, 400, "badRequest", "'instance' is a required property");
    }
    const others = Object.keys(fields).filter((k) => k !== "name");
    if (others.length > 1) return this.fail(res, 400, "badRequest", "Only one attribute (except 'name') is allowed to update.");
    if (!("access" in fields)) return this.fail(res, 400, "badRequest", "this stand-in only implements access updates");
    const access = fields.access as Record<string, unknown>;
    if (typeof access !== "object" || access === null) return this.fail(res, 400, "badRequest", "'access' is not of type 'object'");
    const extra = Object.keys(access).filter((k) => k !== "is_public" && k !== "allowed_cidrs");
    if (extra.length > 0)
      return this.fail(res, 400, "badRequest", `Additional properties are not allowed (${extra.join(", ")} were unexpected)`);
    if ("is_public" in access && typeof access.is_public !== "boolean")
      return this.fail(res, 400, "badRequest", "is_public is not of type 'boolean'");
    const cidrs = "allowed_cidrs" in access ? access.allowed_cidrs : ["0.0.0.0/0"];
    if (!Array.isArray(cidrs) || !cidrs.every((c) => typeof c === "string" && CIDR.test(c))) {
      return this.fail(res, 400, "badRequest", `allowed_cidrs ${JSON.stringify(cidrs)} does not match the IPv4 CIDR pattern`);
    }
    if (new Set(cidrs).size !== cidrs.length) return this.fail(res, 400, "badRequest", "allowed_cidrs has non-unique elements");
    for (const cidr of cidrs as string[]) {
      const prefix = cidr.includes("/") ? Number(cidr.split("/")[1]) : 32;
      if (prefix === 0) return this.fail(res, 400, "badRequest", `${cidr}: opening a database to the whole Internet is not allowed`);
      if (prefix < 22) return this.fail(res, 400, "badRequest", `${cidr}: the smallest allowed mask is /22`);
    }
    instance.pending = { isPublic: access.is_public === true, allowedCidrs: cidrs as string[], reads: this.options.applyAfterReads ?? 1 };
    this.send(res, 202);
  }
}
