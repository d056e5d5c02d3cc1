/**
 * STAND-IN for the real OpenStack APIs, which cannot run on this machine. It implements the published contracts
 * the lease provider uses, and nothing more:
 *   - Keystone v3 `POST /v3/auth/tokens` (password and application_credential methods; 201, X-Subject-Token,
 *     token.catalog with a `reservation` service), https://docs.openstack.org/api-ref/identity/v3/
 *   - Blazar v1 leases: `POST /v1/leases`, `GET|PUT|DELETE /v1/leases/{id}` with the lease object and its
 *     status machine (PENDING -> STARTING -> ACTIVE, ERROR, 404 once deleted),
 *     https://docs.openstack.org/blazar/latest/api/v1/ and .../user/state-machines.html
 * Every request is recorded so tests can assert exactly what the provider sent.
 */
import * as http from "http";
import type { AddressInfo } from "net";

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly token?: string;
  readonly body: unknown;
}

interface FakeLease {
  id: string;
  name: string;
  status: string;
  status_reason?: string;
  start_date: string;
  end_date: string;
  reservations: { id: string; resource_type: string; status: string }[];
  /** Statuses still to go through, one per GET. */
  script: string[];
  deleted: boolean;
}

export interface FakeOpenStackOptions {
  /** Statuses a new lease reports on successive reads; the last one sticks. */
  readonly statusScript?: string[];
  readonly errorReason?: string;
  /** Fail this many Blazar requests with this status before answering normally. */
  readonly transientFailures?: { count: number; status: number };
  readonly applicationCredential?: { id: string; secret: string };
  readonly password?: { user: string; password: string; projectName: string };
  readonly omitReservationService?: boolean;
}

const TOKEN = "gAAAAABfake-keystone-token";

export class FakeOpenStack {
  readonly requests: RecordedRequest[] = [];
  readonly leases = new Map<string, FakeLease>();
  private server?: http.Server;
  private transientLeft: number;
  private nextId = 1;
  url = "";

  constructor(private readonly options: FakeOpenStackOptions = {}) {
    this.transientLeft = options.transientFailures?.count ?? 0;
  }

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => {
      let data = "";
      req.on("data", (chunk) => (data += chunk));
      req.on("end", () => this.handle(req, data, res));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  blazarRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.path.startsWith("/reservation/"));
  }

  private send(res: http.ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { "Content-Type": "application/json", ...headers });
    res.end(body === undefined ? "" : JSON.stringify(body));
  }

  private handle(req: http.IncomingMessage, data: string, res: http.ServerResponse): void {
    const path = req.url ?? "";
    const body = data === "" ? undefined : JSON.parse(data);
    this.requests.push({ method: req.method ?? "", path, token: req.headers["x-auth-token"] as string | undefined, body });

    if (req.method === "POST" && path === "/identity/v3/auth/tokens") return this.authenticate(body, res);
    if (!path.startsWith("/reservation/v1/leases")) return this.send(res, 404, { error: { message: "not found" } });
    if (req.headers["x-auth-token"] !== TOKEN)
      return this.send(res, 401, { error_code: 401, error_message: "The request you have made requires authentication." });
    if (this.transientLeft > 0) {
      this.transientLeft--;
      return this.send(res, this.options.transientFailures!.status, { error_message: "try again" }, { "Retry-After": "0" });
    }
    const id = decodeURIComponent(path.slice("/reservation/v1/leases/".length));
    if (req.method === "POST" && path === "/reservation/v1/leases") return this.createLease(body, res);
    const lease = this.leases.get(id);
    if (!lease || lease.deleted)
      return this.send(res, 404, { error_code: 404, error_message: `Object with {'lease_id': '${id}'} not found` });
    if (req.method === "GET") {
      if (lease.script.length > 0) lease.status = lease.script.shift()!;
      if (lease.status === "ERROR") lease.status_reason = this.options.errorReason ?? "Not enough resources available";
      return this.send(res, 200, { lease: this.view(lease) });
    }
    if (req.method === "PUT") {
      lease.end_date = `${String(body.end_date).replace(" ", "T")}:00.000000`;
      lease.script = ["ACTIVE"];
      lease.status = "UPDATING";
      return this.send(res, 200, { lease: this.view(lease) });
    }
    if (req.method === "DELETE") {
      lease.deleted = true;
      return this.send(res, 204);
    }
    return this.send(res, 405);
  }

  private authenticate(
    body: {
      auth: {
        identity: {
          methods: string[];
          application_credential?: { id: string; secret: string };
          password?: { user: { name: string; password: string } };
        };
        scope?: { project?: { name?: string } };
      };
    },
    res: http.ServerResponse,
  ): void {
    const identity = body.auth.identity;
    let ok = false;
    if (identity.methods[0] === "application_credential" && this.options.applicationCredential) {
      ok =
        identity.application_credential?.id === this.options.applicationCredential.id &&
        identity.application_credential?.secret === this.options.applicationCredential.secret &&
        body.auth.scope === undefined;
    }
    if (identity.methods[0] === "password" && this.options.password) {
      ok =
        identity.password?.user.name === this.options.password.user &&
        identity.password?.user.password === this.options.password.password &&
        body.auth.scope?.project?.name === this.options.password.projectName;
    }
    if (!ok)
      return this.send(res, 401, {
        error: { code: 401, message: "The request you have made requires authentication.", title: "Unauthorized" },
      });
    const catalog = [
      {
        type: "identity",
        name: "keystone",
        endpoints: [{ interface: "public", region: "CHI@TACC", region_id: "CHI@TACC", url: `${this.url}/identity/v3` }],
      },
    ];
    if (!this.options.omitReservationService) {
      catalog.push({
        type: "reservation",
        name: "blazar",
        endpoints: [
          { interface: "internal", region: "CHI@TACC", region_id: "CHI@TACC", url: "http://10.0.0.1:1234" },
          { interface: "public", region: "CHI@TACC", region_id: "CHI@TACC", url: `${this.url}/reservation` },
        ],
      });
    }
    this.send(res, 201, { token: { expires_at: "2099-01-01T00:00:00.000000Z", catalog } }, { "X-Subject-Token": TOKEN });
  }

  private createLease(
    body: { name: string; start_date: string; end_date: string; reservations: { resource_type: string }[] },
    res: http.ServerResponse,
  ): void {
    const n = this.nextId++;
    const start = body.start_date === "now" ? "2026-11-22T12:00:00.000000" : `${body.start_date.replace(" ", "T")}:00.000000`;
    const lease: FakeLease = {
      id: `lease-${n}`,
      name: body.name,
      status: "PENDING",
      start_date: start,
      end_date: `${body.end_date.replace(" ", "T")}:00.000000`,
      reservations: body.reservations.map((r, i) => ({ id: `reservation-${n}-${i}`, resource_type: r.resource_type, status: "pending" })),
      script: [...(this.options.statusScript ?? ["PENDING", "STARTING", "ACTIVE"])],
      deleted: false,
    };
    this.leases.set(lease.id, lease);
    this.send(res, 201, { lease: this.view(lease) });
  }

  private view(lease: FakeLease): Record<string, unknown> {
    const { script: _script, deleted: _deleted, ...visible } = lease;
    return visible;
  }
}
