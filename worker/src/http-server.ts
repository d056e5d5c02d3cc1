import http from "node:http";
import { Counter, type Registry } from "prom-client";
import type { Logger } from "pino";

export type RouteHandler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>;

export interface ServiceServerOptions {
  readonly port: number;
  readonly host?: string;
  readonly registry: Registry;
  readonly logger: Logger;
  /** Readiness: undefined when ready; otherwise why not (starting, draining, the database or its schema). */
  readonly notReadyReason: () => Promise<string | undefined>;
  /** Extra routes keyed by "METHOD /path". */
  readonly routes?: Readonly<Record<string, RouteHandler>>;
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

const BUILT_IN_ROUTES = new Set(["GET /healthz", "GET /readyz", "GET /metrics"]);

/** /healthz (liveness: the event loop answers), /readyz, /metrics, plus the service's own routes. */
export function createServiceServer(opts: ServiceServerOptions): http.Server {
  // Every response by route and status code, including the 500s of a handler that failed (the alert on
  // the webhook's 5xx rate reads this). Unknown paths share one label to bound the series.
  const responses = new Counter({
    name: "image_pipeline_http_responses_total",
    help: "HTTP responses by route and status code",
    labelNames: ["route", "code"],
    registers: [opts.registry],
  });
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const routeKey = `${req.method} ${path}`;
    const route = opts.routes?.[routeKey];
    const routeLabel = route || BUILT_IN_ROUTES.has(routeKey) ? routeKey : "other";
    res.once("finish", () => responses.inc({ route: routeLabel, code: String(res.statusCode) }));
    const handle = async (): Promise<void> => {
      if (route) return route(req, res);
      if (req.method === "GET" && path === "/healthz") return sendJson(res, 200, { status: "ok" });
      if (req.method === "GET" && path === "/readyz") {
        const reason = await opts.notReadyReason().catch((err: unknown) => `readiness check failed: ${(err as Error).message}`);
        return sendJson(
          res,
          reason === undefined ? 200 : 503,
          reason === undefined ? { status: "ready" } : { status: "not ready", reason },
        );
      }
      if (req.method === "GET" && path === "/metrics") {
        const text = await opts.registry.metrics();
        res.writeHead(200, { "content-type": opts.registry.contentType });
        res.end(text);
        return;
      }
      sendJson(res, 404, { error: `no route for ${req.method} ${path}` });
    };
    handle().catch((err: unknown) => {
      opts.logger.error({ err, path }, "request failed");
      if (!res.headersSent) sendJson(res, 500, { error: "internal error" });
      else res.destroy();
    });
  });
  // Behind a Service the connection count is small; a short keep-alive lets shutdown finish quickly.
  server.keepAliveTimeout = 5_000;
  server.requestTimeout = 30_000;
  return server;
}

export function listen(server: http.Server, port: number, host?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const addr = server.address();
      resolve(typeof addr === "object" && addr ? addr.port : port);
    });
  });
}

export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
