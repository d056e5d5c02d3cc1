import { ConfigError, WORKER_ENV, keyMatchesFilter, loadConfig } from "../../worker/src/config";

const workerEnv = {
  DATABASE_URL: "postgres://u:p@db:5432/pipeline",
  S3_ENDPOINT: "http://rgw:8080",
  S3_ACCESS_KEY_ID: "ak",
  S3_SECRET_ACCESS_KEY: "sk",
  INPUT_BUCKET: "in",
  OUTPUT_BUCKET: "out",
};

describe("loadConfig", () => {
  it("applies the documented defaults", () => {
    const c = loadConfig(workerEnv, "worker");
    expect(c.s3).toEqual({
      endpoint: "http://rgw:8080",
      region: "default",
      accessKeyId: "ak",
      secretAccessKey: "sk",
      forcePathStyle: true,
      connectTimeoutMs: 5000,
      requestTimeoutMs: 30000,
    });
    expect(c.retryBudgetSeconds).toBe(6 * 3600);
    expect(loadConfig({ ...workerEnv, WEBHOOK_SECRET: "s" }, "webhook").notificationMaxAgeSeconds).toBe(7 * 86400);
    expect(c.port).toBe(8080);
    expect(c.visibilityTimeoutSeconds).toBe(60);
    expect(c.outputPrefix).toBe("");
    expect(c.reconcileMode).toBe("both");
    expect(c.keySuffixFilter).toEqual([]);
  });

  it("lists every problem in one error, naming each variable", () => {
    let err: unknown;
    try {
      loadConfig(
        {
          S3_ENDPOINT: "not a url",
          PORT: "http",
          VISIBILITY_TIMEOUT_SECONDS: "0",
          RECONCILE_MODE: "sometimes",
          S3_FORCE_PATH_STYLE: "maybe",
        },
        "worker",
      );
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const problems = (err as ConfigError).problems;
    for (const name of [
      "DATABASE_URL",
      "S3_ENDPOINT",
      "S3_ACCESS_KEY_ID",
      "S3_SECRET_ACCESS_KEY",
      "INPUT_BUCKET",
      "OUTPUT_BUCKET",
      "PORT",
      "VISIBILITY_TIMEOUT_SECONDS",
      "RECONCILE_MODE",
      "S3_FORCE_PATH_STYLE",
    ]) {
      expect(problems.some((p) => p.startsWith(name))).toBe(true);
    }
    expect(problems).toHaveLength(10);
    expect((err as Error).message).toContain("10 problems");
  });

  it("asks each command only for what it uses", () => {
    expect(() => loadConfig({ DATABASE_URL: "postgres://db/x" }, "migrate")).not.toThrow();
    expect(() => loadConfig({ DATABASE_URL: "postgres://db/x", INPUT_BUCKET: "in" }, "webhook")).toThrow(
      /WEBHOOK_SECRET is required for 'webhook'/,
    );
    expect(() => loadConfig({ DATABASE_URL: "postgres://db/x", INPUT_BUCKET: "in", WEBHOOK_SECRET: "s" }, "webhook")).not.toThrow();
  });

  it("never echoes a secret value in an error", () => {
    expect(() => loadConfig({ ...workerEnv, DATABASE_URL: "hunter2-not-a-url" }, "worker")).toThrow(
      /DATABASE_URL="<redacted>" is not a URL/,
    );
  });

  it("rejects a database URL that is not PostgreSQL and an output that would overwrite inputs", () => {
    expect(() => loadConfig({ ...workerEnv, DATABASE_URL: "mysql://db/x" }, "worker")).toThrow(/postgres:\/\//);
    expect(() => loadConfig({ ...workerEnv, OUTPUT_BUCKET: "in" }, "worker")).toThrow(/OUTPUT_BUCKET equals INPUT_BUCKET/);
    expect(() => loadConfig({ ...workerEnv, OUTPUT_BUCKET: "in", OUTPUT_PREFIX: "inverted/" }, "worker")).not.toThrow();
  });

  it("exports one spec per variable of the contract", () => {
    const names = WORKER_ENV.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    for (const n of [
      "DATABASE_URL",
      "S3_ENDPOINT",
      "S3_REGION",
      "S3_ACCESS_KEY_ID",
      "S3_SECRET_ACCESS_KEY",
      "S3_FORCE_PATH_STYLE",
      "INPUT_BUCKET",
      "OUTPUT_BUCKET",
      "OUTPUT_PREFIX",
      "WEBHOOK_SECRET",
      "KEY_PREFIX_FILTER",
      "KEY_SUFFIX_FILTER",
      "PORT",
      "VISIBILITY_TIMEOUT_SECONDS",
      "MAX_ATTEMPTS",
      "LIMIT_INPUT_PIXELS",
      "TRANSFORM_TIMEOUT_MS",
      "RECONCILE_MODE",
      "RECONCILE_INTERVAL_SECONDS",
      "WORKER_CONCURRENCY",
      "SHUTDOWN_GRACE_SECONDS",
      "LOG_LEVEL",
    ]) {
      expect(names).toContain(n);
    }
    expect(
      WORKER_ENV.filter((s) => s.secret)
        .map((s) => s.name)
        .sort(),
    ).toEqual(["DATABASE_APP_PASSWORD", "DATABASE_URL", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "WEBHOOK_SECRET"]);
  });

  it("migrate takes the services' role and its password together, and only migrate gets them", () => {
    const base = { DATABASE_URL: "postgres://postgres:pw@db:5432/pipeline_db" };
    expect(
      loadConfig({ ...base, DATABASE_APP_ROLE: "pipeline", DATABASE_APP_PASSWORD: "p".repeat(32) }, "migrate").databaseAppRole,
    ).toEqual({
      name: "pipeline",
      password: "p".repeat(32),
    });
    expect(loadConfig(base, "migrate").databaseAppRole).toBeUndefined();
    expect(() => loadConfig({ ...base, DATABASE_APP_ROLE: "pipeline" }, "migrate")).toThrow(
      /DATABASE_APP_ROLE and DATABASE_APP_PASSWORD go together/,
    );
    expect(() => loadConfig({ ...base, DATABASE_APP_PASSWORD: "p".repeat(32) }, "migrate")).toThrow(/go together/);
  });
});

describe("keyMatchesFilter", () => {
  const cfg = { keyPrefixFilter: "uploads/", keySuffixFilter: [".jpg", ".png"] };
  it("needs the prefix and one of the suffixes, case-insensitively", () => {
    expect(keyMatchesFilter("uploads/a.JPG", cfg)).toBe(true);
    expect(keyMatchesFilter("uploads/a.png", cfg)).toBe(true);
    expect(keyMatchesFilter("uploads/a.txt", cfg)).toBe(false);
    expect(keyMatchesFilter("other/a.jpg", cfg)).toBe(false);
    expect(keyMatchesFilter("anything", { keyPrefixFilter: "", keySuffixFilter: [] })).toBe(true);
  });
});
