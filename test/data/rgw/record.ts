/**
 * Re-records the RGW topic fixtures in this directory from a real radosgw, through a recording proxy, using the
 * same functions the provider uses (so the recorded requests are exactly what the provider sends).
 *
 *   RGW_ENDPOINT=http://127.0.0.1:7480 RGW_ACCESS_KEY=... RGW_SECRET_KEY=... RGW_VERSION="16.2.15 (pacific)" \
 *     npx ts-node --transpile-only test/data/rgw/record.ts
 *
 * The user needs no special caps; topics belong to the user. Fixtures are JSON: request (method, path, form body
 * without signatures) and response (status, content-type, body) per exchange.
 */
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { CreateTopicCommand } from "@aws-sdk/client-sns";
import { createSnsClient, deleteTopic, getTopic, mapRgwError, putTopic, RgwConnection, RgwTopicSpec } from "../../../infra/rgw/topic-api";

interface Exchange {
  request: { method: string; path: string; form: Record<string, string> };
  response: { status: number; contentType: string; body: string };
}

async function main(): Promise<void> {
  const upstream = new URL(required("RGW_ENDPOINT"));
  const version = required("RGW_VERSION");
  let exchanges: Exchange[] = [];

  const proxy = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const forward = http.request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          const out: Buffer[] = [];
          up.on("data", (c: Buffer) => out.push(c));
          up.on("end", () => {
            const text = Buffer.concat(out).toString("utf8");
            exchanges.push({
              request: {
                method: req.method ?? "",
                path: req.url ?? "",
                form: Object.fromEntries(new URLSearchParams(body.toString("utf8"))),
              },
              response: { status: up.statusCode ?? 0, contentType: String(up.headers["content-type"] ?? ""), body: text },
            });
            res.writeHead(up.statusCode ?? 502, up.headers);
            res.end(text);
          });
        },
      );
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const port = (proxy.address() as { port: number }).port;
  // Headers pass through untouched (Host included): the SigV4 signature covers them.
  const conn: RgwConnection = {
    endpoint: `http://127.0.0.1:${port}`,
    region: "default",
    accessKeyId: required("RGW_ACCESS_KEY"),
    secretAccessKey: required("RGW_SECRET_KEY"),
  };
  const spec: RgwTopicSpec = {
    name: "image-pipeline-rec",
    pushEndpoint: "http://203.0.113.10/notify",
    opaqueData: "s3cr3t-Opaque.Data_1",
    persistent: true,
    verifySsl: false,
  };

  const record = async (name: string, step: () => Promise<unknown>) => {
    exchanges = [];
    let outcome: string;
    try {
      outcome = JSON.stringify(await step());
    } catch (err) {
      outcome = `threw ${(err as Error).message}`;
    }
    const file = path.join(__dirname, `${name}.json`);
    fs.writeFileSync(
      file,
      `${JSON.stringify({ rgwVersion: version, recordedAt: new Date().toISOString().slice(0, 10), exchanges }, null, 2)}\n`,
    );
    process.stdout.write(`${name}: ${exchanges.map((e) => e.response.status).join(",")} -> ${outcome}\n`);
  };

  // Start clean so create really creates.
  await deleteTopic(conn, `arn:aws:sns:default::${spec.name}`).catch(() => undefined);
  await record("create-topic", () => putTopic(conn, spec));
  await record("get-topic-attributes", () => getTopic(conn, `arn:aws:sns:default::${spec.name}`));
  await record("overwrite-topic", () =>
    putTopic(conn, { ...spec, pushEndpoint: "https://hooks.example.org:8443/notify", persistent: false, verifySsl: true }),
  );
  await record("get-topic-attributes-overwritten", () => getTopic(conn, `arn:aws:sns:default::${spec.name}`));
  await record("delete-topic", () => deleteTopic(conn, `arn:aws:sns:default::${spec.name}`));
  await record("get-topic-attributes-missing", () => getTopic(conn, `arn:aws:sns:default::${spec.name}`));
  await record("delete-topic-missing", () => deleteTopic(conn, `arn:aws:sns:default::${spec.name}`));
  await record("create-topic-bad-signature", () => putTopic({ ...conn, secretAccessKey: "wrong-secret" }, spec));
  await record("create-topic-unknown-key", () => putTopic({ ...conn, accessKeyId: "NOSUCHACCESSKEY" }, spec));
  // putTopic validates first, so the raw client is used to get RGW's own answer to a request without a Name.
  await record("create-topic-without-name", () =>
    createSnsClient(conn)
      .send(new CreateTopicCommand({ Name: "" }))
      .catch((err: unknown) => {
        throw mapRgwError("CreateTopic", "topic (no name)", conn.endpoint, err);
      }),
  );
  await deleteTopic(conn, `arn:aws:sns:default::${spec.name}`).catch(() => undefined);
  proxy.close();
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required; see the header of ${path.basename(__filename)}`);
  return value;
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
