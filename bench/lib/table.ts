/** Markdown tables: readable in a terminal and pasteable into BENCHMARKS.md as they are. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  for (const r of rows)
    if (r.length !== header.length) throw new Error(`row has ${r.length} cells, header has ${header.length}: ${r.join(" | ")}`);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(header), `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`, ...rows.map(line)].join("\n");
}

/** "median [p25–p75]" with the given number of decimals. */
export function medianWithSpread(s: { median: number; p25: number; p75: number }, digits = 1): string {
  return `${s.median.toFixed(digits)} [${s.p25.toFixed(digits)}–${s.p75.toFixed(digits)}]`;
}
