import pino from "pino";

/** A silent logger for in-process services under test. */
export const silentLogger = pino({ level: "silent" });
