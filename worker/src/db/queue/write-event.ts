import type { PoolClient } from "pg";
import { eventParams, upsertEventSql } from "./event-row";
import type { EventRecord, Job } from "./job-types";

/** Writes (or, for a re-run of the same version, replaces) the version's event row; inside the job's final transaction. */
export async function writeEvent(client: PoolClient, job: Job, event: EventRecord): Promise<void> {
  await client.query(upsertEventSql("$1::bigint", 2), [job.id, ...eventParams(job, event)]);
}
