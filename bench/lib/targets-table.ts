/** The targets as a Markdown table: each basis's figure with met or MISSED, and the retired targets under it. */
import { markdownTable } from "./table";
import { isVerdict, type NotApplicable, type RetiredTarget, type TargetRow, type Verdict } from "./targets";

export function basisCell(basis: Verdict | NotApplicable | undefined): string {
  if (basis === undefined) return "not run";
  if (isVerdict(basis)) return `${basis.measured}: ${basis.met ? "met" : "MISSED"}`;
  return `n/a (${basis.notApplicable})`;
}

export function targetsTable(rows: readonly TargetRow[], retired: readonly RetiredTarget[]): string {
  const table = markdownTable(
    ["target", "wall time", "CPU time", "other", "met"],
    rows.map((r) => [
      r.target,
      basisCell(r.wall),
      basisCell(r.cpu),
      r.other ? basisCell(r.other) : r.met === undefined ? "not run" : "-",
      r.met === undefined ? "-" : r.met ? "yes" : "NO",
    ]),
  );
  if (retired.length === 0) return table;
  const list = retired.map((t) => `- ${t.target}: retired, because ${t.why}. Replaced by ${t.replacedBy}.`).join("\n");
  return `${table}\n\nRetired targets:\n\n${list}`;
}
