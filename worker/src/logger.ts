import pino, { type Logger } from "pino";

/** JSON logs on stdout; the collector adds pod and node, we add what identifies the process. */
export function createLogger(level: string, bindings: Record<string, unknown>): Logger {
  return pino({
    level,
    base: { service: "image-pipeline-worker", ...bindings },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: ["*.secretAccessKey", "*.webhookSecret", "*.databaseUrl"], censor: "<redacted>" },
  });
}
