/** The plain functions behind PipelineStorage and PipelineDatabase. */
import { Client } from "pg";
import {
  DATABASE_NAME,
  DATABASE_USER,
  inClusterHost,
  POSTGRES_PORT,
  postgresConnectionString,
  troveHost,
  troveInstanceArgs,
} from "../../infra/database";
import {
  bucketPolicyDocument,
  keystoneProjectPrincipal,
  notificationId,
  pushEndpointUrl,
  s3ProviderArgs,
  topicNotification,
} from "../../infra/storage";

describe("storage", () => {
  test("the push endpoint is the webhook's /notify on its host name or address, over HTTPS unless plain HTTP is chosen", () => {
    expect(pushEndpointUrl("pipeline.example.org")).toBe("https://pipeline.example.org/notify");
    expect(pushEndpointUrl("203.0.113.10", "http")).toBe("http://203.0.113.10/notify");
    expect(pushEndpointUrl("2001:db8::10", "http")).toBe("http://[2001:db8::10]/notify");
  });

  test("Keystone-integrated RGW names the EC2 user after the project, in a tenant of the same name", () => {
    expect(keystoneProjectPrincipal("8f2d5c7a")).toBe("arn:aws:iam::8f2d5c7a:user/8f2d5c7a");
  });

  test("read policy: list the bucket and get objects, nothing else", () => {
    const doc = JSON.parse(bucketPolicyDocument("in-b", "arn:aws:iam:::user/p", "read"));
    expect(doc).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "PipelineListInput",
          Effect: "Allow",
          Principal: { AWS: ["arn:aws:iam:::user/p"] },
          Action: ["s3:ListBucket"],
          Resource: ["arn:aws:s3:::in-b"],
        },
        {
          Sid: "PipelineReadInput",
          Effect: "Allow",
          Principal: { AWS: ["arn:aws:iam:::user/p"] },
          Action: ["s3:GetObject"],
          Resource: ["arn:aws:s3:::in-b/*"],
        },
      ],
    });
  });

  test("write policy: put objects only", () => {
    const doc = JSON.parse(bucketPolicyDocument("out-b", "arn:aws:iam:::user/p", "write"));
    expect(doc.Statement).toEqual([
      {
        Sid: "PipelineWriteOutput",
        Effect: "Allow",
        Principal: { AWS: ["arn:aws:iam:::user/p"] },
        Action: ["s3:PutObject"],
        Resource: ["arn:aws:s3:::out-b/*"],
      },
    ]);
  });

  test("provider args: one endpoint for S3 and SNS, path-style, every AWS-only check skipped", () => {
    expect(s3ProviderArgs("https://a3s.fi", "default", "AK", "SK")).toEqual({
      region: "default",
      accessKey: "AK",
      secretKey: "SK",
      endpoints: [{ s3: "https://a3s.fi", sns: "https://a3s.fi" }],
      s3UsePathStyle: true,
      skipCredentialsValidation: true,
      skipRequestingAccountId: true,
      skipMetadataApiCheck: true,
      skipRegionValidation: true,
    });
  });

  test("notification config: ObjectCreated, filters only when set, a fixed Id per topic", () => {
    expect(notificationId("t")).toBe("t-created");
    expect(topicNotification("arn:aws:sns:default::t", "t-1", { keyPrefix: "", keySuffix: "" })).toEqual({
      id: "t-1",
      topicArn: "arn:aws:sns:default::t",
      events: ["s3:ObjectCreated:*"],
    });
    expect(topicNotification("arn:aws:sns:default::t", "t-1", { keyPrefix: "in/", keySuffix: ".jpg" })).toEqual({
      id: "t-1",
      topicArn: "arn:aws:sns:default::t",
      events: ["s3:ObjectCreated:*"],
      filterPrefix: "in/",
      filterSuffix: ".jpg",
    });
  });
});

describe("database", () => {
  test("in-cluster host is the postgres Service in the namespace", () => {
    expect(inClusterHost("image-pipeline")).toBe("postgres.image-pipeline.svc.cluster.local");
  });

  test("the connection string escapes what a URL cannot carry and libpq-compatible clients parse it back", () => {
    const url = postgresConnectionString({
      host: "192.168.1.50",
      port: 5432,
      database: "pipeline_db",
      user: "pipeline",
      password: "p@ss:w/rd#1",
    });
    expect(url).toBe("postgresql://pipeline:p%40ss%3Aw%2Frd%231@192.168.1.50:5432/pipeline_db");
    // node-postgres is what the worker uses: it must read back exactly these parts.
    const parsed = new Client({ connectionString: url });
    expect({ host: parsed.host, port: parsed.port, database: parsed.database, user: parsed.user, password: parsed.password }).toEqual({
      host: "192.168.1.50",
      port: 5432,
      database: "pipeline_db",
      user: "pipeline",
      password: "p@ss:w/rd#1",
    });
  });

  test("Trove host: the address inside the private network, whatever else Trove lists", () => {
    expect(troveHost("db", ["10.20.0.7", "192.168.1.50"], "192.168.1.0/24")).toBe("192.168.1.50");
    expect(() => troveHost("db", ["10.20.0.7"], "192.168.1.0/24")).toThrow(
      /Trove instance db reports no address on the private network 192\.168\.1\.0\/24 \(addresses: \["10\.20\.0\.7"\]\)\. Fix:/,
    );
    expect(() => troveHost("db", undefined, "192.168.1.0/24")).toThrow(/addresses: \[\]/);
  });

  test("Trove instance args: network uuid only, pipeline_db, one user limited to it", () => {
    const args = troveInstanceArgs(
      {
        kind: "trove",
        instanceName: "ip-prod-db",
        flavor: "standard.small",
        datastoreType: "postgresql",
        datastoreVersion: "17.2",
        volumeSizeGb: 10,
        site: { kind: "same-cloud" },
      },
      "flavor-id",
      "net-id",
      "pw",
    );
    expect(args).toEqual({
      name: "ip-prod-db",
      flavorId: "flavor-id",
      size: 10,
      datastore: { type: "postgresql", version: "17.2" },
      networks: [{ uuid: "net-id" }],
      databases: [{ name: DATABASE_NAME }],
      users: [{ name: DATABASE_USER, password: "pw", databases: [DATABASE_NAME] }],
    });
    expect([DATABASE_NAME, DATABASE_USER, POSTGRES_PORT]).toEqual(["pipeline_db", "pipeline", 5432]);
  });

  test("Trove instance args for an external DBaaS: no network of this stack (the DBaaS attaches its own)", () => {
    const site = { kind: "external" as const, cloud: "csc-pukki", caCertificate: "-----BEGIN CERTIFICATE-----" };
    const base = { kind: "trove" as const, instanceName: "ip-prod-db", flavor: "standard.small", datastoreType: "postgresql" };
    const args = troveInstanceArgs({ ...base, datastoreVersion: "17.2", volumeSizeGb: 10, site }, "flavor-id", "net-id", "pw");
    expect(args.networks).toBeUndefined();
    expect(args).toMatchObject({ name: "ip-prod-db", flavorId: "flavor-id", size: 10, databases: [{ name: DATABASE_NAME }] });
  });
});
