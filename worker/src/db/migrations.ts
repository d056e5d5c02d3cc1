/**
 * Numbered schema migrations, applied in order by migrate.ts under an advisory lock. Append only:
 * a released migration is never edited, a change is a new number.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const SCHEMA = "image_pipeline";
/** LISTEN/NOTIFY channel raised when a job becomes claimable. */
export const JOBS_CHANNEL = "image_pipeline_jobs";

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "queue_and_event_log",
    sql: `
CREATE TABLE ${SCHEMA}.jobs (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  bucket        text NOT NULL,
  object_key    text NOT NULL,
  etag          text NOT NULL,
  size_bytes    bigint,
  source        text NOT NULL CHECK (source IN ('notification', 'reconciler')),
  status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'running', 'done', 'dead')),
  attempts      integer NOT NULL DEFAULT 0,
  max_attempts  integer NOT NULL CHECK (max_attempts > 0),
  run_after     timestamptz NOT NULL DEFAULT now(),
  locked_by     text,
  lease_token   uuid,
  locked_until  timestamptz,
  last_error    text,
  error_code    text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  -- One job per object version: re-delivered and duplicate notifications collapse here.
  CONSTRAINT jobs_object_version UNIQUE (bucket, object_key, etag)
);
CREATE INDEX jobs_claimable ON ${SCHEMA}.jobs (run_after, id) WHERE status = 'pending';
CREATE INDEX jobs_leased ON ${SCHEMA}.jobs (locked_until) WHERE status = 'running';
CREATE INDEX jobs_dead ON ${SCHEMA}.jobs (updated_at) WHERE status = 'dead';

CREATE TABLE ${SCHEMA}.events (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  job_id         bigint REFERENCES ${SCHEMA}.jobs (id) ON DELETE SET NULL,
  input_bucket   text NOT NULL,
  input_key      text NOT NULL,
  input_etag     text NOT NULL,
  output_bucket  text,
  output_key     text,
  input_bytes    bigint,
  output_bytes   bigint,
  width          integer,
  height         integer,
  frames         integer,
  pixels         bigint,
  format         text,
  download_ms    double precision,
  transform_ms   double precision,
  upload_ms      double precision,
  worker_id      text NOT NULL,
  attempt        integer NOT NULL,
  status         text NOT NULL CHECK (status IN ('processed', 'failed', 'skipped')),
  error          text,
  error_code     text,
  started_at     timestamptz NOT NULL,
  finished_at    timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT events_object_version UNIQUE (input_bucket, input_key, input_etag)
);

-- Wake listening workers whenever a job becomes claimable now. The empty payload lets PostgreSQL
-- fold the notifications of one transaction into a single one.
CREATE FUNCTION ${SCHEMA}.notify_job_ready() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('${JOBS_CHANNEL}', '');
  RETURN NULL;
END $$;
CREATE TRIGGER jobs_ready AFTER INSERT OR UPDATE OF status, run_after ON ${SCHEMA}.jobs
  FOR EACH ROW WHEN (NEW.status = 'pending' AND NEW.run_after <= now())
  EXECUTE FUNCTION ${SCHEMA}.notify_job_ready();
`,
  },
  {
    version: 2,
    name: "object_versions_retry_budget_one_job_per_object",
    sql: `
-- An input version is (eTag, mtime): the same content uploaded again is a new version. Rows from before
-- this migration get mtime -infinity, "unknown": they are compared by eTag alone.
ALTER TABLE ${SCHEMA}.jobs ADD COLUMN mtime timestamptz NOT NULL DEFAULT '-infinity';
ALTER TABLE ${SCHEMA}.jobs ALTER COLUMN mtime DROP DEFAULT;
ALTER TABLE ${SCHEMA}.jobs DROP CONSTRAINT jobs_object_version;
ALTER TABLE ${SCHEMA}.jobs ADD CONSTRAINT jobs_object_version UNIQUE (bucket, object_key, etag, mtime);

-- Transient failures retry until retry_until (set at the first one); strikes count failures the input
-- itself may cause (the worker died or hung holding it, the transform timed out), limited by max_attempts.
ALTER TABLE ${SCHEMA}.jobs ADD COLUMN retry_until timestamptz;
ALTER TABLE ${SCHEMA}.jobs ADD COLUMN strikes integer NOT NULL DEFAULT 0;
ALTER TABLE ${SCHEMA}.jobs ADD COLUMN dead_reason text CHECK (dead_reason IN ('permanent', 'retry_budget', 'strikes'));
UPDATE ${SCHEMA}.jobs SET dead_reason = CASE
    WHEN error_code = 'lease_expired' THEN 'strikes'
    WHEN error_code IN ('storage_unavailable', 'storage_error', 'internal', 'timeout', 'resources') THEN 'retry_budget'
    ELSE 'permanent' END
  WHERE status = 'dead';

-- At most one job per object runs at a time: two versions processed at once race for the same output key.
UPDATE ${SCHEMA}.jobs SET status = 'pending', attempts = greatest(attempts - 1, 0), run_after = now(),
    locked_by = NULL, lease_token = NULL, locked_until = NULL, updated_at = now()
  WHERE status = 'running'
    AND id NOT IN (SELECT min(id) FROM ${SCHEMA}.jobs WHERE status = 'running' GROUP BY bucket, object_key);
CREATE UNIQUE INDEX jobs_one_running_per_object ON ${SCHEMA}.jobs (bucket, object_key) WHERE status = 'running';

ALTER TABLE ${SCHEMA}.events ADD COLUMN input_mtime timestamptz NOT NULL DEFAULT '-infinity';
ALTER TABLE ${SCHEMA}.events ALTER COLUMN input_mtime DROP DEFAULT;
ALTER TABLE ${SCHEMA}.events DROP CONSTRAINT events_object_version;
ALTER TABLE ${SCHEMA}.events ADD CONSTRAINT events_object_version UNIQUE (input_bucket, input_key, input_etag, input_mtime);

-- What each output was made from (the values of its source-etag and source-version metadata): written
-- before the upload ('writing'), confirmed when the job completes ('current'). The reconciler compares
-- it with the input's current version.
CREATE TABLE ${SCHEMA}.outputs (
  input_bucket   text NOT NULL,
  input_key      text NOT NULL,
  output_bucket  text,
  output_key     text,
  source_etag    text NOT NULL,
  source_mtime   timestamptz NOT NULL,
  job_id         bigint REFERENCES ${SCHEMA}.jobs (id) ON DELETE SET NULL,
  state          text NOT NULL CHECK (state IN ('writing', 'current')),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (input_bucket, input_key)
);
INSERT INTO ${SCHEMA}.outputs (input_bucket, input_key, output_bucket, output_key, source_etag, source_mtime, job_id, state, updated_at)
SELECT DISTINCT ON (input_bucket, input_key) input_bucket, input_key, output_bucket, output_key, input_etag, '-infinity', job_id, 'current', finished_at
  FROM ${SCHEMA}.events
  WHERE status = 'processed'
  ORDER BY input_bucket, input_key, finished_at DESC;

-- Also wake workers when a job stops running while another job of its object waits to be claimed.
CREATE FUNCTION ${SCHEMA}.notify_object_released() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM ${SCHEMA}.jobs WHERE bucket = NEW.bucket AND object_key = NEW.object_key
             AND id <> NEW.id AND status = 'pending' AND run_after <= now()) THEN
    PERFORM pg_notify('${JOBS_CHANNEL}', '');
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER jobs_object_released AFTER UPDATE OF status ON ${SCHEMA}.jobs
  FOR EACH ROW WHEN (OLD.status = 'running' AND NEW.status <> 'running')
  EXECUTE FUNCTION ${SCHEMA}.notify_object_released();
`,
  },
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;
