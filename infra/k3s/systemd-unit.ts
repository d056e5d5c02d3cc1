/**
 * systemd unit files as typed objects: sections of `Key=value` lines (systemd.syntax(7)). A list value becomes
 * one line per item, which is how dependency directives such as `Requires=` accumulate.
 */
export type SystemdUnitValue = string | readonly string[];
export type SystemdUnitFile = Readonly<Record<string, Readonly<Record<string, SystemdUnitValue>>>>;

export function renderSystemdUnit(unit: SystemdUnitFile): string {
  const sections = Object.entries(unit).map(([section, entries]) => {
    const lines = Object.entries(entries).flatMap(([key, value]) =>
      (typeof value === "string" ? [value] : value).map((v) => {
        if (/[\r\n]/.test(v) || v.trim() !== v || v === "")
          throw new Error(`systemd unit [${section}] ${key}: "${v}" must be one non-empty line`);
        return `${key}=${v}`;
      }),
    );
    return [`[${section}]`, ...lines].join("\n");
  });
  return `${sections.join("\n\n")}\n`;
}
