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
];

export const LATEST_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;
