/** The pipeline's database and roles: the same on every kind of database (Trove, external DBaaS, in-cluster). */
export const DATABASE_NAME = "pipeline_db";
export const DATABASE_USER = "pipeline";
/** The in-cluster PostgreSQL's superuser (the official image's default): only the migration Job connects as it. */
export const DATABASE_ADMIN_USER = "postgres";
