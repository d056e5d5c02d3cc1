import { EVENTS, mtimeParam, type EventRecord, type Job } from "./job-types";

/**
 * The event row of one job version: its columns, their types and where each value comes from, in one place for
 * every statement that writes it (complete.ts, write-event.ts). A column added here is written by all of them.
 */
const EVENT_FIELDS: readonly (readonly [column: string, type: string, value: (job: Job, event: EventRecord) => unknown])[] = [
  ["input_bucket", "text", (j) => j.bucket],
  ["input_key", "text", (j) => j.key],
  ["input_etag", "text", (j) => j.eTag],
  ["input_mtime", "timestamptz", (j) => mtimeParam(j.mtime)],
  ["output_bucket", "text", (_j, e) => e.outputBucket ?? null],
  ["output_key", "text", (_j, e) => e.outputKey ?? null],
  ["input_bytes", "bigint", (_j, e) => e.inputBytes ?? null],
  ["output_bytes", "bigint", (_j, e) => e.outputBytes ?? null],
  ["width", "integer", (_j, e) => e.width ?? null],
  ["height", "integer", (_j, e) => e.height ?? null],
  ["frames", "integer", (_j, e) => e.frames ?? null],
  ["pixels", "bigint", (_j, e) => e.pixels ?? null],
  ["format", "text", (_j, e) => e.format ?? null],
  ["download_ms", "float8", (_j, e) => e.downloadMs ?? null],
  ["transform_ms", "float8", (_j, e) => e.transformMs ?? null],
  ["upload_ms", "float8", (_j, e) => e.uploadMs ?? null],
  ["worker_id", "text", (j) => j.lockedBy],
  ["attempt", "integer", (j) => j.attempt],
  ["status", "text", (_j, e) => e.status],
  ["error", "text", (_j, e) => e.error ?? null],
  ["error_code", "text", (_j, e) => e.errorCode ?? null],
  ["started_at", "timestamptz", (_j, e) => e.startedAt],
];

/** The event's values, in column order, as query parameters. */
export function eventParams(job: Job, event: EventRecord): unknown[] {
  return EVENT_FIELDS.map(([, , value]) => value(job, event));
}

/** The parameter number of a column when the event's values start at `$first` (the output record reuses some). */
export function eventParam(column: string, first: number): string {
  const index = EVENT_FIELDS.findIndex(([c]) => c === column);
  if (index < 0) throw new Error(`events has no column ${column}`);
  return `$${first + index}::${EVENT_FIELDS[index][1]}`;
}

/**
 * Writes (or, for a re-run of the same version, replaces) the version's event row: `INSERT … SELECT <jobId>, $first… [FROM
 * <from>]`, so that a data-modifying CTE can write it only from the row its guarded update returned. Parameters are cast
 * because a SELECT list, unlike VALUES, does not take the target columns' types.
 */
export function upsertEventSql(jobId: string, first: number, from?: string): string {
  const columns = EVENT_FIELDS.map(([c]) => c);
  const values = EVENT_FIELDS.map(([, type], i) => `$${first + i}::${type}`);
  const replaced = columns.filter((c) => !["input_bucket", "input_key", "input_etag", "input_mtime"].includes(c));
  return `INSERT INTO ${EVENTS} (job_id, ${columns.join(", ")})
       SELECT ${jobId}, ${values.join(", ")}${from ? ` FROM ${from}` : ""}
       ON CONFLICT ON CONSTRAINT events_object_version DO UPDATE SET
         job_id = EXCLUDED.job_id, ${replaced.map((c) => `${c} = EXCLUDED.${c}`).join(", ")}, finished_at = now()`;
}
