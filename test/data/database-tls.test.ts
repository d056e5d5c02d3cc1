/**
 * The connection string the program gives the pods for a database reached over the Internet, against a real
 * PostgreSQL with TLS on and certificates made by the real openssl: node-postgres (what the worker uses) connects
 * only when the server's certificate chains to the configured CA and names the address it dialled.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Client } from "pg";
import { postgresConnectionString } from "../../infra/database";
import { freePort } from "../../worker/local/ports";
import { LocalPostgres } from "../../worker/local/postgres";

let root: string;
let server: LocalPostgres;

function openssl(args: string[]): void {
  execFileSync("openssl", args, { cwd: root, stdio: "pipe" });
}

/** A CA, and a server certificate it signs for `san` (e.g. IP:127.0.0.1). */
function makeCa(name: string): void {
  openssl(
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2"].concat([
      "-subj",
      `/CN=${name}`,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.crt`,
    ]),
  );
}

function makeServerCert(ca: string, name: string, san: string): void {
  openssl([
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-subj",
    "/CN=database",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
  ]);
  fs.writeFileSync(path.join(root, `${name}.ext`), `subjectAltName=${san}\n`);
  openssl(
    ["x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.crt`, "-CAkey", `${ca}.key`, "-CAcreateserial", "-days", "2"].concat([
      "-extfile",
      `${name}.ext`,
      "-out",
      `${name}.crt`,
    ]),
  );
}

async function startWith(serverCert: string): Promise<void> {
  const dataDir = path.join(root, `data-${serverCert}`);
  server = new LocalPostgres({ dataDir, port: await freePort(), user: "pipeline", password: "s3cr3t" });
  await server.initialise();
  fs.copyFileSync(path.join(root, `${serverCert}.crt`), path.join(dataDir, "server.crt"));
  fs.copyFileSync(path.join(root, `${serverCert}.key`), path.join(dataDir, "server.key"));
  const owner = fs.statSync(dataDir);
  for (const f of ["server.crt", "server.key"]) {
    fs.chownSync(path.join(dataDir, f), owner.uid, owner.gid);
    fs.chmodSync(path.join(dataDir, f), 0o600);
  }
  fs.appendFileSync(path.join(dataDir, "postgresql.conf"), "\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n");
  await server.start();
}

async function query(url: string): Promise<string> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ ssl: boolean }>("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
    return rows[0].ssl ? "tls" : "plain";
  } finally {
    await client.end().catch(() => undefined);
  }
}

const url = (caFile: string, host = "127.0.0.1") =>
  postgresConnectionString({
    host,
    port: server.port,
    database: "postgres",
    user: "pipeline",
    password: "s3cr3t",
    tls: { caPath: path.join(root, caFile) },
  });

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "database-tls-"));
  fs.chmodSync(root, 0o755);
  makeCa("ca");
  makeCa("other-ca");
  makeServerCert("ca", "server-ip", "IP:127.0.0.1");
  makeServerCert("ca", "server-name", "DNS:db.example.org");
});

afterEach(async () => server?.destroy());
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

test("the URL asks for verify-full with the mounted CA", () => {
  expect(
    postgresConnectionString({
      host: "195.148.30.38",
      port: 5432,
      database: "pipeline_db",
      user: "pipeline",
      password: "p",
      tls: { caPath: "/etc/image-pipeline/database-ca/ca.crt" },
    }),
  ).toBe(
    "postgresql://pipeline:p@195.148.30.38:5432/pipeline_db?sslmode=verify-full&sslrootcert=%2Fetc%2Fimage-pipeline%2Fdatabase-ca%2Fca.crt",
  );
  expect(postgresConnectionString({ host: "192.168.1.50", port: 5432, database: "pipeline_db", user: "pipeline", password: "p" })).toBe(
    "postgresql://pipeline:p@192.168.1.50:5432/pipeline_db",
  );
});

test("connects over TLS when the server's certificate chains to the CA and names the address", async () => {
  await startWith("server-ip");
  expect(await query(url("ca.crt"))).toBe("tls");
});

test("refuses a server whose certificate another CA signed", async () => {
  await startWith("server-ip");
  await expect(query(url("other-ca.crt"))).rejects.toThrow(/self[- ]signed certificate|unable to verify|unable to get local issuer/);
});

test("refuses a certificate from the right CA that names another host", async () => {
  await startWith("server-name");
  await expect(query(url("ca.crt"))).rejects.toThrow(/does not match certificate's altnames|IP: 127\.0\.0\.1 is not in the cert's list/);
});
